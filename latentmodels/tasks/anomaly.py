"""Anomaly detection with any latent variable model: a sample the model finds unlikely is odd.

:class:`AnomalyDetector` wraps a model in scikit-learn's outlier-detector interface
(``fit``, ``score_samples``, ``decision_function``, ``predict`` returning +1/-1). Its default
score (``"auto"``) combines two views of an encoder-decoder model: how far a sample's code lies
from the codes of the training data (``"latent_knn"``), and how much better the model
reconstructs it than a small local pixel model predicts it (``"likelihood_ratio"``, which
corrects the bias of raw likelihoods towards simple images). Other scores come from the
model's own contract (:func:`sample_scores`): ``score_samples`` (ELBO for VAEs, minus the
reconstruction error for autoencoders, per-document bound for LDA) or, for HMMs, whose
``score_samples`` keeps hmmlearn's meaning, ``score_sequences`` (one forward log-likelihood
per sequence), the tighter IWAE bound for models with ``log_likelihood``, or the
reconstruction error of ``inverse_transform(transform(X))`` for anything that encodes and
decodes (PCA included).
"""

from __future__ import annotations

import math
import sys
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._internal.params import validate_declared
from .._internal.validation import check_data, check_positive_int

__all__ = [
    "SCORES",
    "AnomalyDetector",
    "LocalPixelModel",
    "plot_anomalies",
    "plot_score_histogram",
    "ranking_scores",
    "reconstruction_scores",
    "require_methods",
    "sample_scores",
]

SCORES = ("auto", "likelihood", "iwae", "reconstruction", "latent_knn", "likelihood_ratio",
          "default")
# Scores that fit something of their own on the training data, beyond the model.
_COMBINED = ("latent_knn", "likelihood_ratio")
_PROBABILITY_FLOOR = 1e-4  # keeps Bernoulli log-likelihoods finite for 0/1 pixels


def sample_scores(model: Any, X: Any, **params: Any) -> np.ndarray:
    """The contract's per-sample score of ``X`` under ``model``: higher = more typical.

    A sequence model (HMMs) scores each sequence with ``score_sequences``, since its
    ``score_samples`` is hmmlearn's ``(log_prob, posteriors)``; other models use
    ``score_samples``.

    Parameters
    ----------
    model : estimator
        A fitted model with ``score_sequences`` or ``score_samples``.
    X : array-like
        The data.
    **params
        Passed on (``lengths=`` for sequences).

    Returns
    -------
    numpy.ndarray of shape (n_samples,) or (n_sequences,)

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import PoissonHMM
    >>> hmm = PoissonHMM(2, n_iter=5, random_state=0).fit(np.array([[0], [1], [9], [8]]))
    >>> sample_scores(hmm, np.array([[0], [1], [9], [8]]), lengths=[2, 2]).shape
    (2,)
    """
    per_sequence = getattr(model, "score_sequences", None)
    if callable(per_sequence):
        return np.asarray(per_sequence(X, **params), dtype=np.float64)
    return np.asarray(model.score_samples(X, **params), dtype=np.float64)


def require_methods(model: Any, task: str, *methods: str) -> None:
    """Raise a one-line ``TypeError`` naming the first of ``methods`` that ``model`` lacks.

    Parameters
    ----------
    model : object
        The model to check.
    task : str
        The task's name, used in the message.
    *methods : str
        The methods the task needs.

    Raises
    ------
    TypeError
        If ``model`` lacks one of ``methods``.

    Examples
    --------
    >>> require_methods(object(), "denoise", "transform")
    Traceback (most recent call last):
    ...
    TypeError: model: denoise needs a model with transform(); object has none
    """
    for name in methods:
        if not callable(getattr(model, name, None)):
            raise TypeError(
                f"model: {task} needs a model with {name}(); {type(model).__name__} has none"
            )


def reconstruction_scores(model: Any, X: Any) -> np.ndarray:
    """Minus the squared reconstruction error per sample, ``-||x - decode(encode(x))||^2``.

    Works for every model with ``transform`` and ``inverse_transform`` (scikit-learn's PCA
    too); higher means better reconstructed, like ``score_samples``.

    Parameters
    ----------
    model : object
        A fitted model with ``transform`` and ``inverse_transform``.
    X : array-like
        Samples shaped like the training data.

    Returns
    -------
    numpy.ndarray of shape (n_samples,)
        Minus the squared error of each sample's reconstruction.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> X = np.random.default_rng(0).random((50, 6))
    >>> bool(reconstruction_scores(PCA(6).fit(X), X).max() > -1e-6)
    True
    """
    require_methods(model, "reconstruction scoring", "transform", "inverse_transform")
    data = check_data(X, "X")
    rebuilt = np.asarray(model.inverse_transform(model.transform(data)), dtype=np.float64)
    if rebuilt.size != data.size:
        raise ValueError(
            f"model.inverse_transform returned shape {rebuilt.shape}; cannot compare with X of "
            f"shape {data.shape}"
        )
    diff = data.reshape(len(data), -1).astype(np.float64) - rebuilt.reshape(len(data), -1)
    return -np.einsum("ij,ij->i", diff, diff)


def _bernoulli_log_likelihood(X: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per-sample Bernoulli (cross-entropy) log-likelihood of values in [0, 1], in nats."""
    # float32 logarithms (twice as fast as float64 here), float64 sums.
    p = np.clip(np.asarray(probabilities, dtype=np.float32), _PROBABILITY_FLOOR,
                1.0 - _PROBABILITY_FLOOR)
    log_on, log_off = np.log(p), np.log1p(-p)
    values = np.asarray(X, dtype=np.float32)
    return ((values * (log_on - log_off)).sum(1, dtype=np.float64)
            + log_off.sum(1, dtype=np.float64))


def _image_grid(sample_shape: tuple[int, ...]) -> tuple[int, int]:
    """(rows, columns) a sample is laid out on: its last two axes, a square, or one row."""
    if len(sample_shape) >= 2:
        return sample_shape[-2], sample_shape[-1]
    size = int(sample_shape[0]) if sample_shape else 1
    side = math.isqrt(size)
    return (side, side) if side * side == size and side > 1 else (1, size)


class LocalPixelModel(BaseEstimator):
    """A low-capacity background model: each value given its four causal neighbours.

    Values in [0, 1] on a grid (the last two axes, or a square, or one row) are predicted,
    Bernoulli-style, from the left, upper-left, upper and upper-right neighbours, each cut into
    ``levels`` levels: a table of ``levels**4`` mean values estimated on the training data.
    It captures strokes and blank background but no shape, so the likelihood ratio of a
    model against it discounts how simple an image is.

    Parameters
    ----------
    sample_shape : tuple of int
        Shape of one sample; other leading axes (channels) are treated as more images.
    levels : int, default=3
        Quantisation levels of each neighbour.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((20, 4, 4)); X[:, :, 1] = 1.0   # a vertical stroke
    >>> background = LocalPixelModel((4, 4)).fit(X)
    >>> bool(background.log_likelihood(X)[0] > background.log_likelihood(1 - X)[0])
    True
    """

    def __init__(self, sample_shape: tuple[int, ...], levels: int = 3) -> None:
        self.sample_shape = sample_shape
        self.levels = levels

    def _grids(self, X: np.ndarray) -> np.ndarray:
        rows, columns = _image_grid(tuple(self.sample_shape))
        return np.asarray(X, dtype=np.float32).reshape(len(X), -1, rows, columns)

    def _contexts(self, grids: np.ndarray) -> np.ndarray:
        n = self.levels
        # Small integers keep this memory-bound pass cheap on 8,000 images.
        kind = np.uint8 if n**4 <= 256 else np.int64
        levels = np.minimum(np.clip(grids * n, 0, n - 1).astype(kind), n - 1)
        q = np.pad(levels, ((0, 0), (0, 0), (1, 0), (1, 1)))
        left, upper_left = q[:, :, 1:, :-2], q[:, :, :-1, :-2]
        upper, upper_right = q[:, :, :-1, 1:-1], q[:, :, :-1, 2:]
        return ((left * n + upper_left) * n + upper) * n + upper_right

    def fit(self, X: np.ndarray) -> LocalPixelModel:
        """Estimate the mean value in each neighbourhood context from ``X`` (values in [0, 1]).

        Parameters
        ----------
        X : numpy.ndarray of shape (n_samples, ...)
            Training samples of ``sample_shape``.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> LocalPixelModel((2, 2)).fit(np.ones((3, 4))).table_.shape
        (81,)
        """
        grids = self._grids(X)
        contexts = self._contexts(grids).ravel()
        size = self.levels**4
        # Half a pseudo-observation keeps unseen contexts at probability 0.5.
        sums = np.bincount(contexts, weights=grids.ravel().astype(np.float64),
                           minlength=size) + 0.5
        self.table_ = sums / (np.bincount(contexts, minlength=size) + 1.0)
        return self

    def log_likelihood(self, X: np.ndarray) -> np.ndarray:
        """Bernoulli log-likelihood of each sample under the context table, in nats.

        Parameters
        ----------
        X : numpy.ndarray of shape (n_samples, ...)
            Samples of ``sample_shape``, values in [0, 1].

        Returns
        -------
        numpy.ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> background = LocalPixelModel((2, 2)).fit(np.zeros((50, 4)))  # always blank
        >>> bool(background.log_likelihood(np.zeros((1, 4)))[0] > -0.05)  # nearly certain
        True
        """
        check_is_fitted(self, "table_")
        grids = self._grids(X)
        contexts = self._contexts(grids).reshape(len(X), -1)
        p = np.clip(self.table_, _PROBABILITY_FLOOR, 1.0 - _PROBABILITY_FLOOR)
        log_on, log_off = np.log(p).astype(np.float32), np.log1p(-p).astype(np.float32)
        values = grids.reshape(len(X), -1)
        on, off = log_on[contexts], log_off[contexts]
        # x log p + (1 - x) log(1 - p), summed per sample in float64
        return ((values * (on - off)).sum(1, dtype=np.float64) + off.sum(1, dtype=np.float64))


def _is_fitted(model: Any) -> bool:
    try:
        check_is_fitted(model)
    except NotFittedError:
        return False
    except TypeError:  # not a scikit-learn estimator: trust the caller that it is ready
        return True
    return True


def _encodes_and_decodes_cheaply(model: Any) -> bool:
    """Whether ``"auto"`` can use the code-based scores: a model that encodes in one pass.

    Sequence models (HMMs), topic models (their reconstruction is a word distribution, not
    a document) and GANs (whose ``transform`` is an optimisation per sample) keep their own
    ``score_samples``.
    """
    if not all(callable(getattr(model, name, None)) for name in ("transform", "inverse_transform")):
        return False
    if callable(getattr(model, "score_sequences", None)):
        return False
    # A model of a class whose module was never imported cannot be an instance of it.
    for module_name, class_name in (("latentmodels.deep.gan", "GAN"),
                                    ("latentmodels.lda.model", "LDA")):
        module = sys.modules.get(module_name)
        if module is not None and isinstance(model, getattr(module, class_name)):
            return False
    return True


class AnomalyDetector(OutlierMixin, BaseEstimator):
    """Flag samples a latent variable model finds unlikely (scikit-learn outlier API).

    The default score, ``"auto"``, averages two standardised scores of an encoder-decoder
    model (VAE, autoencoder, PCA): ``"latent_knn"`` and ``"likelihood_ratio"``. Measured on
    MNIST (``mnist_8k``, stratified 80/20 split, seed 0; a default ``VAE()`` trained on nine
    digits, the tenth held out as the anomaly; ``benchmarks/anomaly_score_study.py`` and
    ``benchmarks/anomaly_mnist.py``), AUROC averaged over the ten digits, and per digit for
    0 / 4 / 7 / 9:

    ======================  ================  =========================
    score                   mean, ten digits  digits 0 / 4 / 7 / 9
    ======================  ================  =========================
    ``"auto"``              0.909             0.96 / 0.94 / 0.90 / 0.78
    ``"latent_knn"``        0.872             0.94 / 0.83 / 0.86 / 0.77
    ``"likelihood_ratio"``  0.868             0.93 / 0.94 / 0.86 / 0.69
    ``"reconstruction"``    0.789             0.93 / 0.85 / 0.68 / 0.63
    ``"likelihood"``        0.715             0.93 / 0.76 / 0.60 / 0.53
    ``"iwae"``              0.705             0.93 / 0.75 / 0.57 / 0.53
    ======================  ================  =========================

    Raw likelihoods (ELBO, IWAE) favour simple images: a held-out digit 1 looks *more* normal
    than the training digits (AUROC 0.08); the likelihood ratio corrects that (0.87). The
    ratio misses anomalies that the local pixel model finds unlikely too (new kinds of
    strokes), which the latent distance catches; hence the combination.

    Parameters
    ----------
    model : estimator
        Any model honouring the latentmodels contract (or scikit-learn's ``PCA``). If it
        is not fitted, :meth:`fit` trains a clone of it on the normal data; if it is, ``fit``
        only calibrates the scores and the threshold.
    contamination : float
        Expected share of anomalies in the data given to :meth:`fit`, in (0, 0.5]: the
        threshold is that quantile of the training scores.
    threshold : float or None
        A fixed score threshold instead (samples scoring below it are anomalies);
        ``contamination`` is then not used.
    score : {"auto", "likelihood", "iwae", "reconstruction", "latent_knn", \
"likelihood_ratio"}
        How a sample is scored (higher = more normal):

        * ``"auto"``: the mean of ``"latent_knn"`` and ``"likelihood_ratio"``, each
          standardised by its median and standard deviation on the training data (with
          ``"reconstruction"`` in place of the ratio for data outside [0, 1]). Models that
          do not encode in one pass (HMMs, LDA, GANs) use ``"likelihood"``.
        * ``"likelihood"``: the model's ``score_samples`` (ELBO for VAEs, minus the
          reconstruction error for autoencoders; ``score_sequences`` for HMMs). The
          default before version 0.3; ``"default"`` is its old name, kept with a
          ``FutureWarning``.
        * ``"iwae"``: the importance-weighted ``log_likelihood`` (VAEs).
        * ``"reconstruction"``: minus the squared reconstruction error.
        * ``"latent_knn"``: minus the mean distance from the sample's code
          (``transform``) to the ``n_neighbors`` nearest codes of the training data.
        * ``"likelihood_ratio"``: the Bernoulli log-likelihood of the sample under its
          reconstruction minus that under a
          :class:`~latentmodels.tasks.anomaly.LocalPixelModel` fitted on the training data
          (values in [0, 1]).
    n_importance : int
        Importance samples for ``score="iwae"``.
    n_neighbors : int
        Neighbours in the training codes for ``"latent_knn"`` (and ``"auto"``).

    Attributes
    ----------
    model_ : estimator
        The fitted model used for scoring.
    score_ : str
        The score in use (``"auto"`` resolved for this model).
    threshold_ : float
        The score below which a sample is an anomaly (``offset_`` is an alias).
    train_scores_ : numpy.ndarray
        Scores of the data ``fit`` saw (for ``"latent_knn"``, each sample is left out of
        its own neighbours, so these match what new samples from the same data would get).

    Examples
    --------
    >>> from latentmodels import Autoencoder, datasets
    >>> from latentmodels.tasks.anomaly import AnomalyDetector
    >>> X, y = datasets.load_mnist(flatten=True)
    >>> ae = Autoencoder(latent_dim=8, epochs=1, verbose=0, random_state=0)
    >>> detector = AnomalyDetector(ae, contamination=0.05).fit(X[y != 0][:200])
    >>> detector.predict(X[:3]).shape
    (3,)
    >>> detector.score_
    'auto'
    """

    def __init__(
        self,
        model: Any,
        *,
        contamination: float = 0.1,
        threshold: float | None = None,
        score: str = "auto",
        n_importance: int = 100,
        n_neighbors: int = 5,
    ) -> None:
        self.model = model
        self.contamination = contamination
        self.threshold = threshold
        self.score = score
        self.n_importance = n_importance
        self.n_neighbors = n_neighbors

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "model": "no_validation",  # what it must have depends on the score: see below
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "threshold": [Interval(Real, None, None, closed="neither"), None],
        "score": [StrOptions(set(SCORES), deprecated={"default"})],
        "n_importance": [Interval(Integral, 1, None, closed="left")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    }

    def _resolve_score(self) -> str:
        if self.score == "default":
            warnings.warn(
                "AnomalyDetector(score='default') is now called score='likelihood'; "
                "the default score is 'auto'", FutureWarning, stacklevel=3,
            )
            return "likelihood"
        if self.score == "auto":
            return "auto" if _encodes_and_decodes_cheaply(self.model) else "likelihood"
        return self.score

    def _check_model_methods(self, score: str) -> None:
        """The model must have what the chosen score needs (beyond any one constraint)."""
        codes = ("transform", "inverse_transform")
        needed = {
            "likelihood": ("score_samples",),
            "iwae": ("log_likelihood",),
            "reconstruction": codes,
            "latent_knn": ("transform",),
            "likelihood_ratio": codes,
            "auto": codes,
        }[score]
        require_methods(self.model, f"AnomalyDetector(score={self.score!r})", *needed)

    def _parts(self, score: str, data: np.ndarray) -> tuple[str, ...]:
        """The scores ``score`` is made of, for training data ``data``."""
        if score != "auto":
            return (score,)
        in_unit_range = bool(data.min() >= 0.0 and data.max() <= 1.0)
        return ("latent_knn", "likelihood_ratio" if in_unit_range else "reconstruction")

    def _part_scores(self, part: str, model: Any, X: np.ndarray, training: bool,
                     codes: dict[str, np.ndarray], **params: Any) -> np.ndarray:
        """One score of ``X``; ``training`` leaves each sample out of its own neighbours.
        ``codes`` caches ``model.transform(X)`` across the parts of one call."""
        if part == "iwae":
            return model.log_likelihood(X, n_importance=self.n_importance, **params)
        if part == "reconstruction":
            return reconstruction_scores(model, X)
        if part in ("latent_knn", "likelihood_ratio") and "Z" not in codes:
            codes["Z"] = np.asarray(model.transform(X))
        if part == "latent_knn":
            Z = codes["Z"].reshape(len(X), -1).astype(np.float64)
            distances, _ = self.neighbors_.kneighbors(None if training else Z)
            return -distances.mean(axis=1)
        if part == "likelihood_ratio":
            flat = X.reshape(len(X), -1)
            if not training and (flat.min() < 0.0 or flat.max() > 1.0):
                raise ValueError(
                    f"X: score={self.score!r} compares Bernoulli likelihoods and needs values "
                    f"in [0, 1] as in training, got [{flat.min():.3g}, {flat.max():.3g}]"
                )
            rebuilt = np.asarray(model.inverse_transform(codes["Z"]), dtype=np.float32)
            fit_to_model = _bernoulli_log_likelihood(flat, rebuilt.reshape(len(X), -1))
            return fit_to_model - self.background_.log_likelihood(flat)
        return sample_scores(model, X, **params)

    def _fit_parts(self, model: Any, data: np.ndarray, parts: tuple[str, ...]) -> None:
        """Fit what the scores need beyond the model, on the normal data only."""
        if "latent_knn" in parts:
            if len(data) < 2:
                raise ValueError("X: score='latent_knn' needs at least 2 training samples")
            codes = np.asarray(model.transform(data), dtype=np.float64).reshape(len(data), -1)
            k = min(self.n_neighbors, len(data) - 1)
            self.neighbors_ = NearestNeighbors(n_neighbors=k).fit(codes)
        if "likelihood_ratio" in parts:
            if data.min() < 0.0 or data.max() > 1.0:
                raise ValueError(
                    "X: score='likelihood_ratio' needs values in [0, 1], got "
                    f"[{data.min():.3g}, {data.max():.3g}]; use score='auto' or "
                    "'reconstruction'"
                )
            self.background_ = LocalPixelModel(tuple(data.shape[1:])).fit(
                data.reshape(len(data), -1))

    def _combine(self, parts: dict[str, np.ndarray], training: bool) -> np.ndarray:
        if len(parts) == 1:
            return next(iter(parts.values()))
        if training:
            self.part_center_ = {k: float(np.median(v)) for k, v in parts.items()}
            self.part_scale_ = {k: float(np.std(v)) or 1.0 for k, v in parts.items()}
        standardised = [(v - self.part_center_[k]) / self.part_scale_[k] for k, v in parts.items()]
        return np.mean(standardised, axis=0)

    def _raw_scores(self, model: Any, X: Any, training: bool = False,
                    **params: Any) -> np.ndarray:
        parts = {}
        codes: dict[str, np.ndarray] = {}
        for part in self.parts_:
            values = np.asarray(self._part_scores(part, model, X, training, codes, **params),
                                dtype=np.float64)
            if values.ndim != 1:
                raise ValueError(f"model scores must be one number per sample, got "
                                 f"{values.shape}")
            if not np.isfinite(values).all():
                raise ValueError(
                    f"model gave {int((~np.isfinite(values)).sum())} non-finite scores; "
                    "check the data against what the model was trained on"
                )
            parts[part] = values
        return self._combine(parts, training)

    def fit(self, X: Any, y: Any = None, **params: Any) -> AnomalyDetector:
        """Fit the model on normal data ``X`` if needed, then calibrate scores and threshold.

        Parameters
        ----------
        X : array-like
            Normal data (up to ``contamination`` anomalies).
        y : None
            Ignored.
        **params
            Passed to the model's ``fit`` and scoring (e.g. ``lengths=`` for an HMM).

        Returns
        -------
        self
            The fitted detector.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.decomposition import PCA
        >>> X = np.random.default_rng(0).normal(size=(200, 5))
        >>> detector = AnomalyDetector(PCA(2), contamination=0.05).fit(X)
        >>> round(float((detector.train_scores_ < detector.threshold_).mean()), 2)
        0.05
        """
        validate_declared(self)
        score = self._resolve_score()
        self._check_model_methods(score)
        data = check_data(X, "X")
        if _is_fitted(self.model):
            model = self.model
        else:
            try:
                model = clone(self.model)
            except TypeError:
                model = self.model
            model.fit(data, **params)
        self.score_ = score
        self.parts_ = self._parts(score, data)
        self._fit_parts(model, data, self.parts_)
        scores = self._raw_scores(model, data, training=True, **params)
        self.model_ = model
        self.sample_shape_ = tuple(data.shape[1:])
        self.train_scores_ = scores
        if self.threshold is not None:
            self.threshold_ = float(self.threshold)
        else:
            self.threshold_ = float(np.quantile(scores, self.contamination))
        return self

    @property
    def offset_(self) -> float:
        """The threshold, under scikit-learn's name for it.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.decomposition import PCA
        >>> X = np.random.default_rng(0).normal(size=(200, 5))
        >>> detector = AnomalyDetector(PCA(2), contamination=0.05).fit(X)
        >>> detector.offset_ == detector.threshold_
        True
        """
        check_is_fitted(self, "threshold_")
        return self.threshold_

    def _check_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "threshold_")
        data = check_data(X, "X")
        if math.prod(data.shape[1:]) != math.prod(self.sample_shape_):
            raise ValueError(
                f"X has samples of shape {data.shape[1:]}, but the detector was fitted on "
                f"samples of shape {self.sample_shape_}"
            )
        return data

    def score_samples(self, X: Any, **params: Any) -> np.ndarray:
        """Normality score per sample from the model; higher means more normal.

        Parameters
        ----------
        X : array-like
            Samples shaped like the training data.
        **params
            Passed to the model's scoring.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            The scores.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.decomposition import PCA
        >>> X = np.random.default_rng(0).normal(size=(200, 5))
        >>> detector = AnomalyDetector(PCA(2), contamination=0.05).fit(X)
        >>> detector.score_samples(X[:3]).shape
        (3,)
        """
        check_is_fitted(self, "model_")
        return self._raw_scores(self.model_, self._check_X(X), **params)

    def decision_function(self, X: Any, **params: Any) -> np.ndarray:
        """``score_samples(X) - threshold_``: negative for anomalies.

        Parameters
        ----------
        X : array-like
            Samples shaped like the training data.
        **params
            Passed to the model's scoring.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.decomposition import PCA
        >>> X = np.random.default_rng(0).normal(size=(200, 5))
        >>> detector = AnomalyDetector(PCA(2), contamination=0.05).fit(X)
        >>> bool(detector.decision_function(X[:1] + 10.0)[0] < 0)  # far from the data
        True
        """
        return self.score_samples(X, **params) - self.threshold_

    def predict(self, X: Any, **params: Any) -> np.ndarray:
        """+1 for normal samples, -1 for anomalies (scores below ``threshold_``).

        Parameters
        ----------
        X : array-like
            Samples shaped like the training data.
        **params
            Passed to the model's scoring.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            +1 or -1 per sample.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.decomposition import PCA
        >>> X = np.random.default_rng(0).normal(size=(200, 5))
        >>> detector = AnomalyDetector(PCA(2), contamination=0.05).fit(X)
        >>> detector.predict(np.r_[X[:1] * 0, X[:1] + 10.0]).tolist()
        [1, -1]
        """
        return np.where(self.decision_function(X, **params) >= 0, 1, -1)

    def fit_predict(self, X: Any, y: Any = None, **params: Any) -> np.ndarray:
        """Fit on ``X`` and return its +1/-1 labels.

        The labels come from ``train_scores_``, where a ``"latent_knn"`` score leaves each
        sample out of its own neighbours; ``predict(X)`` on the same data would let every
        sample count itself and flag fewer.

        Parameters
        ----------
        X : array-like
            Normal data (up to ``contamination`` anomalies).
        y : None
            Ignored.
        **params
            Passed to the model's ``fit`` and scoring.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            +1 or -1 per sample of ``X``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.decomposition import PCA
        >>> X = np.random.default_rng(0).normal(size=(200, 5))
        >>> labels = AnomalyDetector(PCA(2), contamination=0.05).fit_predict(X)
        >>> int((labels == -1).sum())
        10
        """
        self.fit(X, **params)
        return np.where(self.train_scores_ >= self.threshold_, 1, -1)

    def evaluate(self, X: Any, is_anomaly: Any, **params: Any) -> dict[str, float]:
        """AUROC and AUPRC of the scores on labelled data, plus detection rates at ``threshold_``.

        Parameters
        ----------
        X : array-like
            Samples shaped like the training data.
        is_anomaly : array-like of bool, shape (n_samples,)
            True for anomalies; both kinds must occur.
        **params
            Passed to the model's scoring.

        Returns
        -------
        dict
            ``auroc`` and ``auprc`` (see :mod:`latentmodels.metrics`), ``recall`` (share of
            anomalies caught) and ``false_positive_rate`` (share of normal samples flagged)
            at ``threshold_``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.decomposition import PCA
        >>> X = np.random.default_rng(0).normal(size=(200, 5))
        >>> detector = AnomalyDetector(PCA(2), contamination=0.05).fit(X)
        >>> X_test = np.r_[X[:20], X[20:25] + 10.0]
        >>> detector.evaluate(X_test, np.arange(25) >= 20)["auroc"]
        1.0
        """
        from ..metrics import auprc, auroc

        scores = self.score_samples(X, **params)
        truth = np.asarray(is_anomaly)
        if truth.shape != scores.shape:
            raise ValueError(
                f"is_anomaly must hold one flag per sample ({len(scores)}), got shape "
                f"{truth.shape}"
            )
        truth = truth.astype(bool)
        flagged = scores < self.threshold_
        return {
            "auroc": auroc(truth, scores),
            "auprc": auprc(truth, scores),
            "recall": float(flagged[truth].mean()),
            "false_positive_rate": float(flagged[~truth].mean()),
        }


def ranking_scores(
    model: Any, items: Any, train: Any = None, **params: Any
) -> tuple[np.ndarray, str]:
    """Scores to rank ``items`` by, typical to odd: the default detector's where it applies.

    ``AnomalyDetector(model).fit(train).score_samples(items)`` when the default detector
    (``score="auto"``) resolves to its combined score for ``model`` and can be built on
    ``train``; otherwise the model's own :func:`sample_scores` (sequence and topic models,
    GANs, no training data, or a detector that fails to build). The report and the explorer
    rank by it, so both rank by the score ``latentmodels anomaly`` uses by default.

    Parameters
    ----------
    model : estimator
        A fitted model.
    items : array-like
        The samples to rank.
    train : array-like or None
        Normal data to calibrate the detector on (the model's training data); None falls
        back to the model's scores.
    **params
        Passed to the model's scoring (e.g. ``y=`` for a conditional model, which always
        falls back: its scores take the labels).

    Returns
    -------
    scores : numpy.ndarray of shape (n_items,)
        Higher = more typical.
    source : str
        What the scores are, in words, for a caption: starts with ``"AnomalyDetector"`` when
        the default detector made them, with ``"score_samples"`` when the model did.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> X = np.random.default_rng(0).random((120, 6))
    >>> pca = PCA(2).fit(X[:100])
    >>> scores, source = ranking_scores(pca, X[100:], X[:100])
    >>> source
    "AnomalyDetector(model) default score ('auto': latent_knn + likelihood_ratio)"
    >>> bool(np.array_equal(scores, AnomalyDetector(pca).fit(X[:100]).score_samples(X[100:])))
    True
    >>> ranking_scores(pca, X[100:])[1]
    "the model's score_samples (no training data to calibrate the default detector on)"
    """
    def own(reason: str) -> tuple[np.ndarray, str]:
        return sample_scores(model, items, **params), f"the model's score_samples ({reason})"

    if params:
        given = ", ".join(sorted(params))
        return own(f"given {given}, which the default detector does not take")
    if train is None:
        return own("no training data to calibrate the default detector on")
    if not _encodes_and_decodes_cheaply(model):
        return own(f"the default detector uses it for a {type(model).__name__}")
    try:
        detector = AnomalyDetector(model).fit(train)
        scores = detector.score_samples(items)
    except (ValueError, TypeError) as exc:
        return own(f"the default detector could not be built: {exc}")
    return scores, (f"AnomalyDetector(model) default score ('auto': "
                    f"{' + '.join(detector.parts_)})")


def plot_score_histogram(
    scores: Any,
    groups: Any = None,
    *,
    threshold: float | None = None,
    title: str = "Anomaly scores",
    path: Any = None,
) -> Any:
    """Histogram of scores (higher = more normal), one colour per group.

    Groups are e.g. "normal" and "anomaly"; the threshold is drawn as a dashed line.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        The scores.
    groups : array-like of shape (n_samples,), optional
        A group name per sample; one colour per group.
    threshold : float, optional
        Drawn as a dashed line.
    title : str, default="Anomaly scores"
        The axes' title.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_score_histogram([-1.0, -2.0, -9.0], ["normal", "normal", "anomaly"])
    >>> len(fig.axes)
    1
    """
    from matplotlib.figure import Figure

    from .. import plots

    values = check_data(scores, "scores", min_ndim=1, dtype=np.float64).ravel()
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.subplots()
    bins = np.histogram_bin_edges(values, bins=40)
    if groups is None:
        ax.hist(values, bins=bins, color="tab:blue", alpha=0.8)
    else:
        labels = np.asarray(groups)
        if labels.shape != values.shape:
            raise ValueError(f"groups must hold one entry per score ({len(values)}), "
                             f"got shape {labels.shape}")
        for name in dict.fromkeys(labels.tolist()):
            ax.hist(values[labels == name], bins=bins, alpha=0.6, density=True, label=str(name))
        ax.legend(fontsize=8)
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1, label="threshold")
    ax.set_xlabel("score (higher = more normal)")
    ax.set_ylabel("density" if groups is not None else "count")
    ax.set_title(title, fontsize=10)
    if path is not None:
        plots.save_figure(fig, path)
    return fig


def plot_anomalies(X: Any, scores: Any, *, n: int = 16, path: Any = None) -> Any:
    """Image grid: the ``n`` lowest-scoring samples on top, the ``n`` highest-scoring below.

    The top row holds the most anomalous samples, the bottom row the most typical.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Images (or flat images).
    scores : array-like of shape (n_samples,)
        Their scores, higher meaning more normal.
    n : int, default=16
        Images per row.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((40, 28, 28))
    >>> fig = plot_anomalies(X, -X.sum(axis=(1, 2)), n=8)
    >>> type(fig).__name__
    'Figure'
    """
    from .. import plots

    data = check_data(X, "X")
    values = check_data(scores, "scores", min_ndim=1, dtype=np.float64).ravel()
    if len(values) != len(data):
        raise ValueError(f"scores has {len(values)} entries but X has {len(data)} samples")
    check_positive_int(n, "n")
    order = np.argsort(values, kind="stable")
    n = min(n, len(data))
    rows = [("most anomalous", plots.as_images(data[order[:n]])),
            ("most typical", plots.as_images(data[order[::-1][:n]]))]
    lo, hi = plots.display_range(*(images for _, images in rows))
    fig = plots.grid_figure(rows, min(n, 16), lo, hi, "Lowest and highest scores")
    if path is not None:
        plots.save_figure(fig, path)
    return fig
