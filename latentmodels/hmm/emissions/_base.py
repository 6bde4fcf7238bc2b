"""The emission interface: :class:`Emission`, its declared ``Param`` s, and shared helpers.

An :class:`Emission` says how one hidden state emits an observation: its learned parameters
(declared as ``Param``), the per-state log-likelihood, initialisation from data, the
expected sufficient statistics of the E-step (``new_stats`` / ``accumulate``, pomegranate's
*summarize*), the M-step from those sums (*from summaries*), sampling and the per-state means.
The EM engine (:class:`~latentmodels.hmm.BaseHMM`) knows nothing about any one emission: it
only calls these methods and reads the declared parameters, which makes persistence, the
parameter count of AIC/BIC, the finite check and the distributed broadcast generic.

An emission object is bound to its estimator (``emission.model``): hyper-parameters and
learned arrays stay estimator attributes with hmmlearn's names (``means_``, ``lambdas_``...),
so users set and read them as before. The registry of emission types is in
:mod:`latentmodels.hmm.emissions._registry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ..._internal.validation import MAX_EXACT_INTEGER, check_data, check_squares_finite

if TYPE_CHECKING:
    from ..base import BaseHMM

__all__ = [
    "DATA_KINDS",
    "Emission",
    "FeaturesMixin",
    "Param",
    "check_counts",
    "check_real",
    "kmeans",
]

#: What an emission observes, so that a command line knows how to read a CSV for it:
#: real-valued columns, non-negative integer counts, or one column of symbols (category codes).
DATA_KINDS = ("real", "counts", "symbols")

@dataclass(frozen=True)
class Param:
    """A learned emission parameter, as an :class:`Emission` declares it.

    The engine reads these declarations to save and load the model, to count parameters
    for AIC/BIC, to check that EM kept them finite and to broadcast the initial values
    under ``torch.distributed``.

    Parameters
    ----------
    letter : str
        Its letter in ``params`` / ``init_params`` (one character, not ``s`` or ``t``).
    attribute : str
        The estimator attribute holding the array (``"means_"``; a leading underscore
        marks an internal storage form such as the compact ``_covars_``).
    kind : {"free", "simplex", "covariance"}, default "free"
        How many free values the array holds: every entry; rows along the last axis that
        sum to one; or symmetric matrices on the last two axes when the model's
        ``covariance_type`` is ``"full"`` or ``"tied"`` (free entries otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> Param("e", "emissionprob_", "simplex").n_free(np.full((2, 3), 1 / 3), None)
    4
    >>> Param("c", "_covars_", "covariance").public
    'covars_'
    """

    letter: str
    attribute: str
    kind: str = "free"

    def __post_init__(self) -> None:
        if not (isinstance(self.letter, str) and len(self.letter) == 1) or self.letter in "st":
            raise ValueError(f"Param letter must be one character other than s and t, "
                             f"got {self.letter!r}")
        if self.kind not in ("free", "simplex", "covariance"):
            raise ValueError(f"Param kind must be free, simplex or covariance, got {self.kind!r}")

    @property
    def public(self) -> str:
        """The name users see (``_covars_`` is shown as ``covars_``).

        Examples
        --------
        >>> Param("m", "means_").public
        'means_'
        """
        return self.attribute.strip("_") + "_"

    def n_free(self, value: np.ndarray, covariance_type: str | None) -> int:
        """Number of free values in ``value``.

        Parameters
        ----------
        value : numpy.ndarray
            The parameter's current array.
        covariance_type : str or None
            The model's ``covariance_type`` (used by ``kind="covariance"``).

        Returns
        -------
        int

        Examples
        --------
        >>> import numpy as np
        >>> Param("c", "_covars_", "covariance").n_free(np.ones((2, 3, 3)), "full")
        12
        """
        size = int(np.size(value))
        if self.kind == "simplex":
            return size - size // max(int(np.shape(value)[-1]), 1)
        if self.kind == "covariance" and covariance_type in ("full", "tied"):
            d = int(np.shape(value)[-1])
            return size // (d * d) * d * (d + 1) // 2
        return size


class Emission:
    """Emission distribution of a hidden Markov model, bound to its estimator.

    Subclasses declare ``parameters`` (a tuple of ``Param``) and ``data`` (one of
    ``DATA_KINDS``) and implement :meth:`initialize`, :meth:`log_likelihood`,
    :meth:`new_stats`, :meth:`accumulate`, :meth:`m_step`, :meth:`sample` and
    :meth:`means`; the other methods have defaults for real-valued (n_samples, n_features)
    data. Hyper-parameters and learned arrays stay attributes of the estimator
    (``self.model``), so an emission reads them there and writes learned arrays back.
    The engine makes a fresh emission object whenever it needs one; keep no state in it.

    Parameters
    ----------
    model : BaseHMM
        The estimator this emission belongs to.

    Attributes
    ----------
    parameters : tuple of Param
        The learned parameters (class attribute).
    data : {"real", "counts", "symbols"}
        What the emission observes, for a command line reading a CSV (class attribute).
    nonfinite_hint : str
        Advice appended to the error raised when EM produces non-finite parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import PoissonHMM
    >>> from latentmodels.hmm.emissions import PoissonEmission
    >>> hmm = PoissonHMM(2)
    >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
    >>> emission = PoissonEmission(hmm)
    >>> [p.attribute for p in emission.parameters], emission.n_features()
    (['lambdas_'], 1)
    >>> emission.log_likelihood(np.array([[0], [5]])).argmax(axis=1).tolist()
    [0, 1]
    """

    #: The learned parameters, in ``params`` letter order.
    parameters: ClassVar[tuple[Param, ...]] = ()
    #: What the emission observes (see ``DATA_KINDS``).
    data: ClassVar[str] = "real"
    #: Added to the error raised when EM produces non-finite parameters.
    nonfinite_hint: ClassVar[str] = "the data may need rescaling"

    def __init__(self, model: BaseHMM) -> None:
        self.model = model

    @classmethod
    def declare_input_tags(cls, input_tags: Any) -> None:
        """Set scikit-learn's input tags for this kind of data, so that its tools (and its
        estimator checks) give symbol and count models non-negative integers, and a symbol
        model one column.

        Examples
        --------
        >>> from latentmodels.hmm import CategoricalHMM
        >>> tags = CategoricalHMM().__sklearn_tags__().input_tags
        >>> tags.categorical, tags.positive_only, tags.one_d_array
        (True, True, True)
        """
        if cls.data in ("symbols", "counts"):
            input_tags.categorical = True
            input_tags.positive_only = True
        if cls.data == "symbols":
            input_tags.one_d_array = True

    # ---------------------------------------------------------------------- helpers
    @property
    def n_components(self) -> int:
        """Number of hidden states of the model.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.n_components
        2
        """
        return self.model.n_components

    def updates(self, letter: str) -> bool:
        """Whether EM updates the parameter of this ``params`` letter.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.updates("l"), emission.updates("x")
        (True, False)
        """
        return letter in self.model.params

    def needs_init(self, attribute: str) -> bool:
        """Whether initialisation must set ``attribute`` (its letter is in ``init_params``, or
        the estimator does not have it yet).

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.needs_init("lambdas_")
        False
        """
        letter = next(p.letter for p in self.parameters if p.attribute == attribute)
        return letter in self.model.init_params or not hasattr(self.model, attribute)

    def get(self, attribute: str) -> np.ndarray:
        """A learned array of the model.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.get("lambdas_").shape
        (2, 1)
        """
        return getattr(self.model, attribute)

    # ------------------------------------------------------------------------- data
    def check_X(self, X: Any, name: str) -> np.ndarray:
        """Validate one array of observations.

        Parameters
        ----------
        X : array-like
            Observations of one sequence or of sequences back to back.
        name : str
            How errors name the argument (``"X"``, ``"X[2]"``).

        Returns
        -------
        numpy.ndarray
            The 2-D array used internally.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.check_X([[0], [3]], "X").dtype
        dtype('int64')
        """
        return check_real(X, name)

    def n_features(self) -> int:
        """Data dimension: the last axis of the first parameter, else what ``fit`` saw.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.n_features()
        1
        """
        first = self.parameters[0].attribute
        if hasattr(self.model, first):
            return int(np.shape(getattr(self.model, first))[-1])
        return int(getattr(self.model, "n_features_", 0))

    def set_n_features(self, X: np.ndarray) -> None:
        """Record the data dimension (``n_features_``) before initialisation.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.set_n_features(np.zeros((4, 1), dtype=int)); hmm.n_features_
        1
        """
        self.model.n_features_ = int(X.shape[1])

    def check_against_model(self, X: np.ndarray) -> None:
        """Check that validated data fit the model's dimension; ``ValueError`` otherwise.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.check_against_model(np.zeros((3, 1)))  # one feature: fine
        """
        D = self.n_features()
        if X.shape[1] != D:
            raise ValueError(f"X has {X.shape[1]} features but the model has {D}")

    # ------------------------------------------------------------------- parameters
    def initialize(
        self, X: np.ndarray, offsets: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray | None:
        """Set the parameters that :meth:`needs_init` from data.

        Parameters
        ----------
        X : numpy.ndarray
            Validated observations, sequences back to back.
        offsets : numpy.ndarray
            Start of each sequence in ``X``, plus ``len(X)`` at the end.
        rng : numpy.random.Generator
            The only source of randomness (restarts use different generators).

        Returns
        -------
        numpy.ndarray or None
            Hard state labels, one per row, from which the engine initialises
            ``startprob_`` and ``transmat_``; None to let it label rows by likelihood.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> hmm.set_params(init_params="stl")
        PoissonHMM(n_components=2)
        >>> X = np.array([[0], [1], [9], [8]])
        >>> labels = emission.initialize(X, np.array([0, 4]), np.random.default_rng(0))
        >>> sorted(np.round(hmm.lambdas_.ravel()).tolist())
        [0.0, 8.0]
        """
        raise NotImplementedError

    def prior_rules(self) -> dict[str, str]:
        """What each prior hyper-parameter accepts, checked with the other hyper-parameters:
        ``"real"`` (finite numbers), ``"nonnegative"``, ``"nonnegative_diagonal"`` (a matrix
        prior whose diagonal must be >= 0), each followed by ``"|none"`` when None means no
        prior. None by default.

        Examples
        --------
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> PoissonEmission(PoissonHMM(2)).prior_rules()["lambdas_prior"]
        'nonnegative'
        """
        return {}

    def prior_shapes(self) -> dict[str, tuple[int, ...]]:
        """The shape each prior hyper-parameter must broadcast to, once the parameters are
        set; the engine refuses others with a message naming the prior. None by default.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> PoissonEmission(hmm).prior_shapes()
        {'lambdas_prior': (2, 1), 'lambdas_weight': (2, 1)}
        """
        return {}

    def check(self) -> None:
        """Validate (possibly hand-set) parameters before use; ``ValueError`` naming the
        parameter otherwise. The default checks that each is set, finite and has
        ``n_components`` rows, and stores it as float64.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.check()
        >>> hmm.lambdas_ = np.array([[1.0]])
        >>> emission.check()
        Traceback (most recent call last):
            ...
        ValueError: lambdas_ must have shape (n_components, n_features)
        """
        for p in self.parameters:
            if not hasattr(self.model, p.attribute):
                raise ValueError(f"{p.public} is not set: fit the model or assign it")
            value = np.asarray(getattr(self.model, p.attribute), dtype=np.float64)
            if value.ndim == 0 or value.shape[0] != self.n_components:
                raise ValueError(f"{p.public} must have n_components={self.n_components} rows")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{p.public} must be finite")
            setattr(self.model, p.attribute, value)

    def n_parameters(self) -> int:
        """Number of free parameters that EM learns (for AIC/BIC), counted from the declared
        parameters whose letter is in ``params``.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.n_parameters()
        2
        """
        ctype = getattr(self.model, "covariance_type", None)
        return sum(
            p.n_free(getattr(self.model, p.attribute), ctype)
            for p in self.parameters
            if self.updates(p.letter)
        )

    def saved_attributes(self) -> dict[str, Any]:
        """Learned values that are not arrays (JSON-able) which ``save`` must keep; the
        default has none.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> PoissonEmission(PoissonHMM(2)).saved_attributes()
        {}
        """
        return {}

    def load_attributes(self, attributes: dict[str, Any]) -> None:
        """Check and restore what :meth:`saved_attributes` gave, read back from a file
        (``ModelFileError`` for a value that cannot be right); the default does nothing.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> PoissonEmission(PoissonHMM(2)).load_attributes({})
        """

    # ---------------------------------------------------------------------------- EM
    def log_likelihood(self, X: np.ndarray) -> np.ndarray:
        """Log-density of each row under each state.

        Parameters
        ----------
        X : numpy.ndarray
            Validated observations.

        Returns
        -------
        numpy.ndarray
            Shape (n_samples, n_components).

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.log_likelihood(np.array([[0], [5]])).round(2).tolist()
        [[-1.0, -5.0], [-5.79, -1.74]]
        """
        raise NotImplementedError

    def log_likelihood_for_stats(self, X: np.ndarray) -> tuple[np.ndarray, Any]:
        """Like :meth:`log_likelihood`, plus anything :meth:`accumulate` can reuse (passed
        back to it as ``aux``; the default passes None).

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> frame, aux = emission.log_likelihood_for_stats(np.array([[0]]))
        >>> frame.shape, aux
        ((1, 2), None)
        """
        return self.log_likelihood(X), None

    def symbol_table(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """For lookup-table emissions: ``(codes, table)`` with ``table[code, state]`` the
        emission probability, so that the E-step reads likelihoods from the table (a
        compiled fast path). None, the default, for other emissions.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.symbol_table(np.array([[0]])) is None
        True
        """
        return None

    def new_stats(self) -> dict[str, np.ndarray]:
        """Zeroed sufficient statistics: a dict of float arrays that :meth:`accumulate` adds
        to, summed over batches and over ``torch.distributed`` processes.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> sorted(emission.new_stats())
        ['obs', 'post']
        """
        raise NotImplementedError

    def accumulate(
        self, stats: dict[str, np.ndarray], X: np.ndarray, posteriors: np.ndarray,
        aux: Any = None,
    ) -> None:
        """Add the expected statistics of ``X`` under the state posteriors (summarize).

        Parameters
        ----------
        stats : dict of numpy.ndarray
            From :meth:`new_stats`; updated in place.
        X : numpy.ndarray
            Validated observations.
        posteriors : numpy.ndarray
            P(state | sequence) per row, shape (n_samples, n_components).
        aux : object, optional
            What :meth:`log_likelihood_for_stats` returned for ``X``.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> stats = emission.new_stats()
        >>> emission.accumulate(stats, np.array([[2], [4]]), np.array([[1.0, 0], [0, 1.0]]))
        >>> stats["obs"].ravel().tolist()
        [2.0, 4.0]
        """
        raise NotImplementedError

    def m_step(self, stats: dict[str, np.ndarray]) -> None:
        """Update the parameters whose letter is in ``params`` from summed statistics
        (from summaries).

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> stats = emission.new_stats()
        >>> emission.accumulate(stats, np.array([[2], [4]]), np.array([[1.0, 0], [0, 1.0]]))
        >>> emission.m_step(stats); hmm.lambdas_.ravel().tolist()
        [2.0, 4.0]
        """
        raise NotImplementedError

    def log_prior(self) -> float:
        """Log-density of the parameters under their prior, up to a constant (0 when flat);
        EM maximises log-likelihood plus this.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.log_prior()
        0.0
        """
        return 0.0

    # ------------------------------------------------------------------ generation
    def sample(self, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw one observation per entry of ``states``.

        Parameters
        ----------
        states : numpy.ndarray
            State of each step, shape (n_samples,).
        rng : numpy.random.Generator

        Returns
        -------
        numpy.ndarray
            Shape (n_samples, n_features).

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.sample(np.array([0, 1, 1]), np.random.default_rng(0)).shape
        (3, 1)
        """
        raise NotImplementedError

    def marginal_density(self, values: np.ndarray, feature: int = 0) -> np.ndarray:
        """Density (probability, for discrete data) of one feature alone under each state,
        for plots and reports. Optional: the default raises ``NotImplementedError``.

        Parameters
        ----------
        values : numpy.ndarray
            Points at which to evaluate, shape (n,).
        feature : int, default 0
            Which feature (column of ``X``).

        Returns
        -------
        numpy.ndarray of shape (n, n_components)

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> PoissonEmission(hmm).marginal_density(np.array([0, 5])).round(3).tolist()
        [[0.368, 0.007], [0.003, 0.175]]
        """
        raise NotImplementedError(f"{type(self).__name__} has no marginal_density")

    def means(self) -> np.ndarray:
        """Expected observation of each state, shape (n_components, n_features); used by
        ``inverse_transform``.

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> from latentmodels.hmm.emissions import PoissonEmission
        >>> hmm = PoissonHMM(2, params="stl", init_params="st")
        >>> hmm.startprob_, hmm.transmat_ = np.array([0.5, 0.5]), np.eye(2)
        >>> hmm.lambdas_ = np.array([[1.0], [5.0]])
        >>> emission = PoissonEmission(hmm)
        >>> emission.means().ravel().tolist()
        [1.0, 5.0]
        """
        raise NotImplementedError


class FeaturesMixin:
    """hmmlearn's ``n_features`` for estimators whose dimension comes from the data (filled
    by ``fit``; may be set by hand, as in hmmlearn).

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import GaussianHMM
    >>> hmm = GaussianHMM(2)
    >>> hmm.means_ = np.zeros((2, 3))
    >>> hmm.n_features
    3
    """

    @property
    def n_features(self) -> int:
        """Number of features (set by ``fit``, else read from the learned arrays).

        Examples
        --------
        >>> import numpy as np
        >>> from latentmodels.hmm import PoissonHMM
        >>> PoissonHMM(2).fit(np.array([[0, 1], [5, 6], [0, 2]])).n_features
        2
        """
        if getattr(self, "n_features_", 0):
            return self.n_features_
        check_is_fitted(self, self._emission_class.parameters[0].attribute)
        return self._emission.n_features()

    @n_features.setter
    def n_features(self, value: int) -> None:
        # hmmlearn lets users set it before sampling from a hand-built model
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"n_features must be an integer >= 1, got {value!r}")
        self.n_features_ = int(value)


# --------------------------------------------------------------- shared building blocks
_KMEANS_SUBSAMPLE = 20000


def kmeans(
    X: np.ndarray, n_clusters: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """k-means on a subsample (fast on long data), then labels for every row.

    Parameters
    ----------
    X : numpy.ndarray
        Rows to cluster, shape (n_samples, n_features).
    n_clusters : int
        At most this many clusters (fewer when ``X`` has fewer rows).
    rng : numpy.random.Generator
        Picks the subsample and seeds k-means.

    Returns
    -------
    centers : numpy.ndarray
    labels : numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.zeros((5, 1)), np.ones((5, 1))]
    >>> centers, labels = kmeans(X, 2, np.random.default_rng(0))
    >>> sorted(centers[:, 0].tolist()), len(set(labels.tolist()))
    ([0.0, 1.0], 2)
    """
    n_clusters = min(n_clusters, len(X))
    idx = (
        rng.choice(len(X), _KMEANS_SUBSAMPLE, replace=False)
        if len(X) > _KMEANS_SUBSAMPLE
        else np.arange(len(X))
    )
    km = KMeans(n_clusters=n_clusters, n_init=3, random_state=int(rng.integers(2**31 - 1)))
    # At most 20,000 rows: one thread is quick, and OpenMP threads that wait for a busy core
    # made this 20x slower on a loaded machine.
    with threadpool_limits(limits=1, user_api="openmp"):
        km.fit(X[idx])
        return km.cluster_centers_, km.predict(X)


def check_real(X: Any, name: str) -> np.ndarray:
    """Validate finite real observations, shape (n_samples, n_features), as float64.

    Parameters
    ----------
    X : array-like
    name : str
        How errors name the argument.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> check_real([[1, 2], [3, 4]], "X").dtype
    dtype('float64')
    """
    data = check_data(X, name, min_ndim=2, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {data.shape}")
    return check_squares_finite(data, name)


def check_counts(X: Any, name: str, *, single_column: bool) -> np.ndarray:
    """Validate non-negative integers (any integer or integral float dtype) as int64.

    Parameters
    ----------
    X : array-like
    name : str
        How errors name the argument.
    single_column : bool
        One symbol per row: shape (n_samples, 1) or (n_samples,); else (n_samples,
        n_features) counts.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> check_counts([0, 2, 1], "X", single_column=True).T.tolist()
    [[0, 2, 1]]
    """
    data = check_data(X, name, min_ndim=1, dtype=np.float64)
    if single_column:
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2 or data.shape[1] != 1:
            raise ValueError(
                f"{name} must hold one symbol per row, shape (n_samples, 1) or (n_samples,); "
                f"got shape {data.shape}"
            )
    elif data.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {data.shape}")
    if np.any(data != np.round(data)):
        raise ValueError(f"{name} must hold integers (symbols or counts)")
    what = "symbols" if single_column else "counts"
    if np.any(data < 0):
        raise ValueError(f"{name} contains negative {what} (min {data.min():g})")
    # Above 2**53 a float64 no longer holds every integer, and the int64 cast below would wrap.
    if data.size and data.max() > MAX_EXACT_INTEGER:
        raise ValueError(f"{name} contains {what} up to {data.max():.3g}; at most "
                         f"{MAX_EXACT_INTEGER} (2**53) is accepted")
    return data.astype(np.int64)

