"""The registry of emission types: :func:`register_emission`, :func:`available`.

A command line lists the registered types by name, builds an estimator with
:meth:`EmissionSpec.make` and reads its data as :attr:`EmissionSpec.data` says; a new type
registers itself when its module is imported (modules named in ``LATENTMODELS_HMM_EMISSIONS``
and entry points of the group ``latentmodels.hmm_emissions`` are imported by
:func:`available`).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._base import DATA_KINDS, Emission

if TYPE_CHECKING:
    from ..base import BaseHMM

__all__ = [
    "EmissionSpec",
    "available",
    "emission_of",
    "get_emission",
    "register_emission",
    "spec_for",
]

#: Names of modules to import (comma-separated) before listing emissions, for emission types
#: that live outside the package; entry points in the group below are loaded as well.
PLUGINS_ENV = "LATENTMODELS_HMM_EMISSIONS"
ENTRY_POINT_GROUP = "latentmodels.hmm_emissions"


@dataclass(frozen=True)
class EmissionSpec:
    """A registered emission type: its command-line ``name`` and its estimator class.

    A command line builds a model as ``spec.estimator(n_components=..., n_iter=...,
    **options)`` where ``options`` are among ``spec.hyperparameters``, and reads its data
    as ``spec.data`` says.

    Parameters
    ----------
    name : str
        The command-line name (``"gaussian"``).
    estimator : type
        The :class:`~latentmodels.hmm.BaseHMM` subclass.

    Examples
    --------
    >>> from latentmodels.hmm.emissions import get_emission
    >>> spec = get_emission("poisson")
    >>> spec.estimator.__name__, spec.data, spec.letters
    ('PoissonHMM', 'counts', 'l')
    >>> sorted(spec.hyperparameters)
    ['lambdas_prior', 'lambdas_weight']
    """

    name: str
    estimator: type

    @property
    def emission(self) -> type[Emission]:
        """The :class:`Emission` subclass.

        Examples
        --------
        >>> from latentmodels.hmm.emissions import get_emission
        >>> get_emission("gmm").emission.__name__
        'GMMEmission'
        """
        return self.estimator._emission_class

    @property
    def data(self) -> str:
        """What the emission observes: ``"real"``, ``"counts"`` or ``"symbols"`` (one column of
        category codes).

        Examples
        --------
        >>> from latentmodels.hmm.emissions import get_emission
        >>> get_emission("categorical").data
        'symbols'
        """
        return self.emission.data

    @property
    def letters(self) -> str:
        """``params`` / ``init_params`` letters of the emission parameters.

        Examples
        --------
        >>> from latentmodels.hmm.emissions import get_emission
        >>> get_emission("gaussian").letters
        'mc'
        """
        return "".join(p.letter for p in self.emission.parameters)

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """Emission-specific ``__init__`` arguments (those :class:`~latentmodels.hmm.BaseHMM` does
        not take) and their defaults.

        Examples
        --------
        >>> from latentmodels.hmm.emissions import get_emission
        >>> get_emission("categorical").hyperparameters
        {'emissionprob_prior': 1.0, 'n_features': None}
        """
        from ..base import BaseHMM

        shared = set(inspect.signature(BaseHMM.__init__).parameters)
        return {
            name: p.default
            for name, p in inspect.signature(self.estimator.__init__).parameters.items()
            if name not in shared and p.kind is not p.VAR_KEYWORD
        }

    @property
    def description(self) -> str:
        """First line of the estimator's docstring.

        Examples
        --------
        >>> from latentmodels.hmm.emissions import get_emission
        >>> get_emission("poisson").description
        'Hidden Markov model with independent Poisson counts per feature.'
        """
        return (inspect.getdoc(self.estimator) or "").split("\n")[0]

    def make(self, options: Mapping[str, Any] | Iterable[str] | None = None,
             **shared: Any) -> BaseHMM:
        """An unfitted estimator of this type, its hyper-parameters checked.

        Parameters
        ----------
        options : mapping or iterable of "key=value" strings, optional
            Emission-specific hyper-parameters (keys of :attr:`hyperparameters`). Values
            given as strings, as a command line has them, are converted like the default:
            numbers, ``true``/``false``, ``none``.
        **shared
            Hyper-parameters every HMM takes (``n_components``, ``n_iter``, ``tol``,
            ``random_state``...).

        Returns
        -------
        BaseHMM

        Raises
        ------
        ValueError
            An unknown option (the message lists the known ones) or a bad value; the
            message names the option.

        Examples
        --------
        >>> from latentmodels.hmm.emissions import get_emission
        >>> hmm = get_emission("gaussian").make(["covariance_type=full", "min_covar=0.01"],
        ...                                     n_iter=50, random_state=0)
        >>> hmm.covariance_type, hmm.min_covar, hmm.n_iter
        ('full', 0.01, 50)
        """
        known = self.hyperparameters
        if options is None:
            options = {}
        elif not isinstance(options, Mapping):
            pairs = {}
            for item in options:
                key, sep, value = str(item).partition("=")
                if not sep or not key.strip():
                    raise ValueError(f"option {item!r} must read key=value")
                pairs[key.strip()] = value.strip()
            options = pairs
        kwargs = {}
        for key, value in options.items():
            if key not in known:
                raise ValueError(
                    f"unknown option {key!r} for the {self.name} emission; options: "
                    f"{', '.join(known) or 'none'}"
                )
            kwargs[key] = _convert(key, value, known[key]) if isinstance(value, str) else value
        model = self.estimator(**shared, **kwargs)
        model._validate_params()
        return model


def _convert(key: str, text: str, default: Any) -> Any:
    """A command-line string as the type of the option's default."""
    low = text.strip().lower()
    if isinstance(default, bool) or low in ("true", "false"):
        if low not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"option {key} must be true or false, got {text!r}")
        return low in ("true", "1", "yes")
    if low == "none":
        return None
    if isinstance(default, str):
        return text
    if not isinstance(default, float):
        with contextlib.suppress(ValueError):
            return int(text)
    try:
        return float(text)
    except ValueError:
        if isinstance(default, (int, float)):
            raise ValueError(f"option {key} must be a number, got {text!r}") from None
        return text


_EMISSIONS: dict[str, EmissionSpec] = {}


def register_emission(name: str, estimator: type | None = None) -> Any:
    """Register an HMM estimator under a command-line name; usable as a class decorator.

    Registering the same name again replaces the entry only for a class of the same module
    and name (a reloaded module).

    Parameters
    ----------
    name : str
        Lower-case identifier, e.g. ``"gaussian"``.
    estimator : type, optional
        A :class:`~latentmodels.hmm.BaseHMM` subclass whose ``_emission_class`` is an
        :class:`Emission` subclass. Omitted: returns a class decorator.

    Returns
    -------
    type or callable
        ``estimator`` itself, or the decorator.

    Raises
    ------
    ValueError
        Bad name, or the name belongs to another class.
    TypeError
        ``estimator`` is not an HMM with an emission class.

    Examples
    --------
    >>> from latentmodels.hmm import PoissonHMM
    >>> from latentmodels.hmm.emissions import available, register_emission
    >>> register_emission("poisson", PoissonHMM) is PoissonHMM
    True
    >>> available()["poisson"].estimator.__name__
    'PoissonHMM'
    """
    if estimator is None:
        return lambda cls: register_emission(name, cls)
    from ..base import BaseHMM

    if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
        raise ValueError(f"emission name must be a lower-case identifier, got {name!r}")
    if not (isinstance(estimator, type) and issubclass(estimator, BaseHMM)):
        raise TypeError(f"estimator must be a BaseHMM subclass, got {estimator!r}")
    emission = getattr(estimator, "_emission_class", None)
    if not (isinstance(emission, type) and issubclass(emission, Emission)):
        raise TypeError(f"{estimator.__name__}._emission_class must be an Emission subclass")
    if emission.data not in DATA_KINDS:
        raise ValueError(f"{emission.__name__}.data must be one of {DATA_KINDS}")
    old = _EMISSIONS.get(name)
    if old is not None and old.estimator is not estimator and (
        (old.estimator.__module__, old.estimator.__qualname__)
        != (estimator.__module__, estimator.__qualname__)
    ):
        raise ValueError(
            f"emission {name!r} is already registered for {old.estimator.__name__}"
        )
    _EMISSIONS[name] = EmissionSpec(name, estimator)
    return estimator


def _load_plugins() -> None:
    for module in filter(None, os.environ.get(PLUGINS_ENV, "").replace(" ", "").split(",")):
        importlib.import_module(module)
    try:
        from importlib.metadata import entry_points

        for entry in entry_points(group=ENTRY_POINT_GROUP):
            entry.load()
    except Exception:  # a broken third-party plugin must not hide the built-in emissions
        pass


def available() -> dict[str, EmissionSpec]:
    """Registered emission types, sorted by name.

    Modules named in the ``LATENTMODELS_HMM_EMISSIONS`` environment variable
    (comma-separated) and entry points of the group ``latentmodels.hmm_emissions`` are
    imported first, so that emission types defined outside the package are listed too.

    Returns
    -------
    dict of str to EmissionSpec

    Examples
    --------
    >>> from latentmodels.hmm.emissions import available
    >>> [name for name in available() if name != "exponential"]
    ['categorical', 'gaussian', 'gmm', 'poisson']
    """
    _load_plugins()
    return dict(sorted(_EMISSIONS.items()))


def get_emission(name: str) -> EmissionSpec:
    """The registered emission type ``name``.

    Parameters
    ----------
    name : str

    Returns
    -------
    EmissionSpec

    Raises
    ------
    ValueError
        Unknown name; the message lists the available ones.

    Examples
    --------
    >>> from latentmodels.hmm.emissions import get_emission
    >>> get_emission("gaussian").estimator.__name__
    'GaussianHMM'
    """
    specs = available()
    if name not in specs:
        raise ValueError(f"unknown emission {name!r}; available: {', '.join(specs)}")
    return specs[name]


def emission_of(model: BaseHMM) -> Emission:
    """The emission object of a fitted or hand-set HMM, for code that must not depend on the
    emission type (plots, reports): ``means()``, ``marginal_density()``, ``data``...

    Parameters
    ----------
    model : BaseHMM

    Returns
    -------
    Emission

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import PoissonHMM
    >>> from latentmodels.hmm.emissions import emission_of
    >>> hmm = PoissonHMM(2)
    >>> hmm.lambdas_ = np.array([[1.0], [4.0]])
    >>> emission = emission_of(hmm)
    >>> emission.data, emission.marginal_density(np.array([0])).round(3).tolist()
    ('counts', [[0.368, 0.018]])
    """
    cls = getattr(model, "_emission_class", None)
    if not (isinstance(cls, type) and issubclass(cls, Emission)):
        raise TypeError(f"model must be an HMM estimator, got {type(model).__name__}")
    return cls(model)


def spec_for(model: Any) -> EmissionSpec | None:
    """The registered entry of an estimator (instance or class), or None.

    Parameters
    ----------
    model : BaseHMM or type

    Returns
    -------
    EmissionSpec or None

    Examples
    --------
    >>> from latentmodels.hmm import CategoricalHMM
    >>> from latentmodels.hmm.emissions import spec_for
    >>> spec_for(CategoricalHMM()).name
    'categorical'
    """
    cls = model if isinstance(model, type) else type(model)
    for spec in available().values():
        if spec.estimator is cls:
            return spec
    return None
