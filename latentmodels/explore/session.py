"""What the explorer computes for one run: the points, their 2-D maps, and decodes.

An :class:`ExploreSession` loads a run directory once (model, held-out data, codes, scores)
and answers every question the page asks with plain JSON-able values; the web layer in
:mod:`latentmodels.explore.server` only validates requests and forwards them here. Three
families are told apart: ``"latent"`` (autoencoders, VAEs, GANs, linear models: a continuous
code that decodes), ``"lda"`` (topics) and ``"hmm"`` (hidden states of a series).
"""

from __future__ import annotations

import base64
import io
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..rundir import MODEL_FILE, RUN_FORMAT_VERSION, load_model, read_run
from ..tasks.anomaly import ranking_scores

__all__ = [
    "MAP_METHODS",
    "MAX_BATCH",
    "MAX_STEPS",
    "ExploreSession",
    "RunNotExplorable",
    "relevance",
]

MAP_METHODS = ("pca", "tsne", "umap")
#: Most latent vectors one decode request may carry.
MAX_BATCH = 256
#: Most frames of one interpolation and most prior samples of one request.
MAX_STEPS = 64
#: t-SNE and UMAP embed at most this many points; the rest are placed beside their nearest
#: embedded neighbours (an exact embedding of 60,000 points takes minutes on a laptop CPU).
EMBED_POINTS = 3000
#: A GAN's codes come from inversion by optimisation (hundreds of generator passes each).
GAN_POINTS = 1000
#: Most latent dimensions given a slider (those whose codes vary most).
SLIDER_DIMS = 8
NEIGHBOURS = 8
#: Training samples the default anomaly detector is calibrated on.
CALIBRATION_SAMPLES = 5000


class RunNotExplorable(ValueError):
    """The run directory cannot be explored (missing files, another family, an old format).

    Examples
    --------
    >>> str(RunNotExplorable("run_dir: no model.lm"))
    'run_dir: no model.lm'
    """


def _png(image: np.ndarray) -> str:
    """A ``data:`` URI of a grey ``(H, W)`` or colour ``(H, W, 3)`` image with values in [0, 1]."""
    from PIL import Image

    pixels = (np.clip(image, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _strip(images: np.ndarray, gap: int = 2) -> np.ndarray:
    """Images side by side on a white background, for a PNG export of a path."""
    n, height, width = images.shape[:3]
    shape = (height, n * width + (n - 1) * gap, *images.shape[3:])
    canvas = np.ones(shape, dtype=np.float64)
    for i, image in enumerate(images):
        canvas[:, i * (width + gap): i * (width + gap) + width] = image
    return canvas


def _slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation (linear where the two vectors are nearly parallel)."""
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a == 0 or norm_b == 0:
        return a + t[:, None] * (b - a)
    cos = np.clip(a @ b / (norm_a * norm_b), -1.0, 1.0)
    omega = math.acos(cos)
    if omega < 1e-6:
        return a + t[:, None] * (b - a)
    return (np.sin((1 - t) * omega)[:, None] * a + np.sin(t * omega)[:, None] * b) / math.sin(omega)


def relevance(topic_word: np.ndarray, term_frequency: np.ndarray, weight: float) -> np.ndarray:
    """Term relevance per topic: ``weight * log p(w|k) + (1 - weight) * log(p(w|k) / p(w))``.

    ``weight = 1`` ranks a topic's terms by probability; ``weight = 0`` by lift, the terms
    most specific to the topic (Sievert and Shirley's relevance, as pyLDAvis shows it).

    Parameters
    ----------
    topic_word : numpy.ndarray of shape (n_topics, n_words)
        Rows are word distributions.
    term_frequency : numpy.ndarray of shape (n_words,)
        Each word's share of the corpus.
    weight : float
        In [0, 1].

    Returns
    -------
    numpy.ndarray of shape (n_topics, n_words)

    Examples
    --------
    >>> phi = np.array([[0.5, 0.4, 0.1], [0.1, 0.1, 0.8]])
    >>> p = np.array([0.45, 0.1, 0.45])
    >>> int(relevance(phi, p, 1.0)[0].argmax()), int(relevance(phi, p, 0.0)[0].argmax())
    (0, 1)
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"relevance weight must be in [0, 1], got {weight}")
    log_phi = np.log(np.maximum(topic_word, 1e-300))
    return weight * log_phi + (1 - weight) * (log_phi - np.log(np.maximum(term_frequency, 1e-300)))


def _classical_mds(distances: np.ndarray) -> np.ndarray:
    """2-D coordinates whose distances approximate ``distances`` (principal coordinates)."""
    n = len(distances)
    centring = np.eye(n) - 1.0 / n
    gram = -0.5 * centring @ (distances ** 2) @ centring
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:2]
    coords = vectors[:, order] * np.sqrt(np.maximum(values[order], 0))
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((n, 2 - coords.shape[1]))])
    return coords


def _jensen_shannon(p: np.ndarray) -> np.ndarray:
    """Pairwise Jensen-Shannon distances between the rows of ``p`` (distributions)."""
    p = np.maximum(p, 1e-12)
    log_p = np.log(p)
    n = len(p)
    out = np.zeros((n, n))
    for i in range(n):
        m = 0.5 * (p[i] + p)
        log_m = np.log(m)
        divergence = 0.5 * ((p[i] * (log_p[i] - log_m)).sum(1) + (p * (log_p - log_m)).sum(1))
        out[i] = np.sqrt(np.maximum(divergence, 0))
    return out


def _rounded(values: np.ndarray, digits: int = 4) -> list:
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


class ExploreSession:
    """One fitted run, ready to be explored: points, maps, decodes, anomalies.

    Parameters
    ----------
    run_dir : str or os.PathLike
        A run directory written by ``latentmodels train`` or ``latentmodels demo``
        (``model.lm`` and ``run.json``).
    max_points : int, default=60000
        Most held-out samples put on the map (the first ones).

    Raises
    ------
    RunNotExplorable
        If the run cannot be read or its model is of no family the explorer knows.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.rundir import write_run
    >>> run = Path(tempfile.mkdtemp())
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> _ = vae.save(run / "model.lm")
    >>> _ = write_run(run, {"model": {"class": "VAE"},
    ...                     "data": {"source": "mnist", "limit": 100, "test_fraction": 0.2}})
    >>> session = ExploreSession(run)
    >>> session.family, session.n_points, session.latent_dim
    ('latent', 20, 2)
    >>> len(session.decode([[0.0, 0.0]])["images"])
    1
    """

    def __init__(self, run_dir: Any, *, max_points: int = 60000) -> None:
        self.run_dir = Path(run_dir)
        if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
            raise ValueError(f"max_points must be a positive int, got {max_points!r}")
        self.max_points = max_points
        self._lock = threading.Lock()
        self._maps: dict[str, np.ndarray] = {}
        self.run_info = self._read()
        self.model = self._load_model()
        self.model_name = type(self.model).__name__
        self.family = self._family()
        self.labels: list[str] | None = None
        getattr(self, f"_prepare_{self.family}")()

    # -- loading -----------------------------------------------------------------------------
    def _read(self) -> dict[str, Any]:
        try:
            info = read_run(self.run_dir)
        except (FileNotFoundError, ValueError) as exc:
            raise RunNotExplorable(str(exc)) from exc
        version = info.get("format_version")
        if not isinstance(version, int) or version < RUN_FORMAT_VERSION:
            raise RunNotExplorable(
                f"run_dir: {self.run_dir} was written by an older latentmodels (run format "
                f"{version!r}, this version reads {RUN_FORMAT_VERSION}); train it again to "
                "explore it")
        return info

    def _load_model(self) -> Any:
        path = self.run_dir / MODEL_FILE
        if not path.is_file():
            raise RunNotExplorable(f"run_dir: {self.run_dir} has no {MODEL_FILE}")
        try:
            model = load_model(path)
        except Exception as exc:  # a broken or foreign file: say so, never a traceback
            raise RunNotExplorable(f"run_dir: {path} cannot be loaded: {exc}") from exc
        recorded = (self.run_info.get("model") or {}).get("class")
        if recorded and recorded != type(model).__name__:
            raise RunNotExplorable(
                f"run_dir: run.json describes a {recorded} but {MODEL_FILE} holds a "
                f"{type(model).__name__}; the directory mixes two runs")
        return model

    def _family(self) -> str:
        model = self.model
        if hasattr(model, "topic_word_"):
            return "lda"
        if hasattr(model, "transmat_"):
            return "hmm"
        if all(callable(getattr(model, m, None)) for m in ("transform", "inverse_transform")):
            return "latent"
        raise RunNotExplorable(
            f"run_dir: the explorer shows autoencoders, VAEs, GANs, linear models, LDA and "
            f"HMMs; this run holds a {type(model).__name__}")

    def _prepare_latent(self) -> None:
        from ..plots import as_images, is_conditional
        from ..rundir import load_run_data

        data = self.run_info.get("data") or {}
        try:
            X, y = load_run_data(self.run_info)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            raise RunNotExplorable(f"run_dir: the run's data cannot be reloaded: {exc}") from exc
        model_ = self.model
        self.is_gan = "GAN" in self.model_name
        limit = min(self.max_points, GAN_POINTS) if self.is_gan else self.max_points
        X = np.asarray(X)[:limit]
        y = None if y is None else np.asarray(y)[:limit]
        self.X = X
        self.y = y
        self.conditional = is_conditional(model_)
        self.classes = ([str(c) for c in model_.classes_] if self.conditional else None)
        if self.conditional and y is None:
            raise RunNotExplorable("run_dir: a conditional model needs the labels of its data, "
                                   f"and {data.get('source')!r} has none")
        extra = {"y": y} if self.conditional else {}
        codes = model_.transform(X, **extra)
        self.codes = np.asarray(codes, dtype=np.float64)
        self.latent_dim = int(self.codes.shape[1])
        self.labels = None if y is None else [str(v) for v in y]
        try:
            as_images(X[:1])
            self.is_image = True
        except ValueError:
            self.is_image = False
        flat = X.reshape(len(X), -1).astype(np.float64)
        low, high = np.percentile(flat, [0.5, 99.5]) if flat.size else (0.0, 1.0)
        self._display = (float(low), float(high) if high > low else float(low) + 1.0)
        try:
            # The default detector's score (`latentmodels anomaly`'s), calibrated on the
            # training split, where it applies; the model's own score elsewhere.
            scores, self.score_source = ranking_scores(model_, X, self._training_data(),
                                                       **extra)
            self.scores = np.asarray(scores, dtype=np.float64)
        except Exception:  # a model without a usable score: no anomaly view
            self.scores, self.score_source = None, None
        mean = self.codes.mean(0)
        centred = self.codes - mean
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        if self.latent_dim == 2:
            vt = np.eye(2)
            mean = np.zeros(2)
        elif vt.shape[0] < 2:
            vt = np.vstack([vt, np.zeros((2 - vt.shape[0], self.latent_dim))])
        self._pca_mean, self._pca_axes = mean, vt[:2]
        self._maps["pca"] = (self.codes - mean) @ vt[:2].T
        spread = self.codes.std(0)
        self.slider_dims = [int(d) for d in np.argsort(-spread)[:SLIDER_DIMS]]
        self._code_mean, self._code_spread = self.codes.mean(0), spread
        self.clusters = self._clusters()

    def _training_data(self) -> np.ndarray | None:
        """Up to ``CALIBRATION_SAMPLES`` of the run's training split; None if unreadable."""
        from ..rundir import load_run_data

        try:
            X, _ = load_run_data(self.run_info, part="train")
        except (OSError, ValueError, KeyError):
            return None
        return np.asarray(X)[:CALIBRATION_SAMPLES]

    def _clusters(self) -> np.ndarray:
        from sklearn.cluster import KMeans

        k = len(set(self.labels)) if self.labels else 8
        k = max(1, min(k, 20, len(self.codes)))
        sample = self.codes[: min(len(self.codes), 20000)]
        kmeans = KMeans(n_clusters=k, n_init=1, random_state=0).fit(sample)
        return kmeans.predict(self.codes)

    def _prepare_lda(self) -> None:
        from ..datasets.texts import load_texts
        from ..lda.text import TextCorpus
        from ..rundir import held_out_split

        data = self.run_info.get("data") or {}
        if data.get("kind") != "text":
            raise RunNotExplorable("run_dir: run.json does not describe a text run")
        try:
            texts = load_texts(str(data["source"]), text_field=data.get("text_field", "text"),
                               label_field=data.get("label_field"), limit=data.get("limit"))
        except (FileNotFoundError, ValueError, KeyError) as exc:
            raise RunNotExplorable(f"run_dir: the run's documents cannot be reloaded: {exc}") \
                from exc
        _, test = held_out_split(len(texts.texts), float(data.get("test_fraction", 0.0)),
                                 int(data.get("split_seed", 0)))
        test = test[: self.max_points]
        self.documents = [texts.texts[i] for i in test]
        self.labels = None if texts.labels is None else [str(texts.labels[i]) for i in test]
        corpus = TextCorpus.from_texts(self.documents, vocabulary=self.model.vocabulary_)
        self.doc_topic = np.asarray(self.model.transform(corpus), dtype=np.float64)
        self.topic_word = np.asarray(self.model.topic_word_, dtype=np.float64)
        self.words = list(self.model.vocabulary_.words)
        prevalence = self.doc_topic.sum(0)
        self.prevalence = prevalence / max(prevalence.sum(), 1e-300)
        self.term_frequency = self.prevalence @ self.topic_word
        self.topic_map = _classical_mds(_jensen_shannon(self.topic_word))

    def _prepare_hmm(self) -> None:
        from ..rundir import load_run_series

        try:
            series = load_run_series(self.run_info)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            raise RunNotExplorable(f"run_dir: the run's series cannot be reloaded: {exc}") from exc
        X = np.asarray(series.X)[: self.max_points]
        lengths = series.lengths
        if lengths is not None:
            lengths = np.asarray(lengths)
            ends = np.cumsum(lengths)
            keep = int(np.searchsorted(ends, len(X), side="right"))
            lengths = lengths[:keep] if keep else None
            X = X[: int(ends[keep - 1])] if keep else X
        self.series = X
        self.lengths = lengths
        self.feature_names = list(getattr(series, "feature_names", None) or series.columns)
        self.states = np.asarray(self.model.predict(X, lengths))
        self.posteriors = np.asarray(self.model.predict_proba(X, lengths))

    # -- what the page asks ------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """What the page needs first: the family, sizes and what each view can do.

        Returns
        -------
        dict

        Examples
        --------
        >>> # ExploreSession("runs/vae").info()["family"] -> 'latent'
        """
        data = self.run_info.get("data") or {}
        base: dict[str, Any] = {
            "family": self.family, "model": self.model_name, "run": str(self.run_dir.name),
            "source": str(data.get("source", "")), "metrics": self.run_info.get("metrics") or {},
            "labels": self.labels,
        }
        if self.family == "latent":
            base.update({
                "n_points": self.n_points, "latent_dim": self.latent_dim,
                "slider_dims": self.slider_dims,
                "slider_ranges": [[_rounded(self._code_mean[d] - 3 * self._code_spread[d] - 1e-3),
                                   _rounded(self._code_mean[d] + 3 * self._code_spread[d] + 1e-3)]
                                  for d in self.slider_dims],
                "code_mean": _rounded(self._code_mean),
                "methods": self.available_methods(), "classes": self.classes,
                "has_scores": self.scores is not None, "is_image": self.is_image,
                "clusters": self.clusters.tolist(),
                "scores": None if self.scores is None else _rounded(self.scores, 3),
                "can_sample": callable(getattr(self.model, "sample", None)),
            })
        elif self.family == "lda":
            base.update({"n_topics": len(self.topic_word), "n_documents": len(self.documents)})
        else:
            base.update({"n_states": int(self.model.n_components), "n_steps": len(self.series),
                         "features": self.feature_names})
        return base

    @property
    def n_points(self) -> int:
        """Number of items shown (samples, documents or time steps)."""
        if self.family == "latent":
            return len(self.codes)
        return len(self.documents) if self.family == "lda" else len(self.series)

    @staticmethod
    def available_methods() -> dict[str, str | None]:
        """Map methods and why one is unavailable (None when it is available)."""
        try:
            import umap  # noqa: F401

            reason = None
        except ImportError:
            reason = "UMAP needs umap-learn: pip install 'latentmodels[umap]'"
        return {"pca": None, "tsne": None, "umap": reason}

    def map(self, method: str = "pca") -> np.ndarray:
        """2-D coordinates of every point (cached; t-SNE/UMAP embed a subset, see module notes).

        Parameters
        ----------
        method : {"pca", "tsne", "umap"}
            The embedding.

        Returns
        -------
        numpy.ndarray of shape (n_points, 2)
        """
        if method not in MAP_METHODS:
            raise ValueError(f"method must be one of {MAP_METHODS}, got {method!r}")
        reason = self.available_methods()[method]
        if reason:
            raise ValueError(reason)
        with self._lock:
            if method not in self._maps:
                self._maps[method] = self._embed(method)
            return self._maps[method]

    def _embed(self, method: str) -> np.ndarray:
        from sklearn.neighbors import NearestNeighbors

        n = len(self.codes)
        rng = np.random.default_rng(0)
        anchors = np.sort(rng.choice(n, size=min(n, EMBED_POINTS), replace=False))
        codes = self.codes[anchors]
        if method == "tsne":
            from sklearn.manifold import TSNE

            perplexity = float(min(30.0, max(2.0, (len(codes) - 1) / 3)))
            embedded = TSNE(n_components=2, perplexity=perplexity, init="pca",
                            random_state=0).fit_transform(codes)
        else:
            import umap

            embedded = umap.UMAP(n_components=2, random_state=0).fit_transform(codes)
        out = np.empty((n, 2))
        out[anchors] = embedded
        rest = np.setdiff1d(np.arange(n), anchors)
        if len(rest):
            out[rest] = self._weighted(NearestNeighbors(n_neighbors=min(NEIGHBOURS, len(codes)))
                                       .fit(codes), self.codes[rest], embedded)
        return out

    @staticmethod
    def _weighted(index: Any, queries: np.ndarray, values: np.ndarray) -> np.ndarray:
        distances, neighbours = index.kneighbors(queries)
        weights = 1.0 / np.maximum(distances, 1e-9)
        weights /= weights.sum(1, keepdims=True)
        return np.einsum("nk,nkd->nd", weights, values[neighbours])

    def map_to_latent(self, points: np.ndarray, method: str = "pca") -> np.ndarray:
        """Latent codes behind 2-D map positions.

        For PCA the exact inverse of the projection (the point of the map's plane through the
        mean code); for t-SNE/UMAP an approximation: the inverse-distance weighted mean of the
        codes of the ``NEIGHBOURS`` nearest points on the map.

        Parameters
        ----------
        points : numpy.ndarray of shape (n, 2)
            Map positions.
        method : {"pca", "tsne", "umap"}
            The map they were read from.

        Returns
        -------
        numpy.ndarray of shape (n, latent_dim)
        """
        from sklearn.neighbors import NearestNeighbors

        points = np.asarray(points, dtype=np.float64)
        if method == "pca":
            return self._pca_mean + points @ self._pca_axes
        embedded = self.map(method)
        index = NearestNeighbors(n_neighbors=min(NEIGHBOURS, len(embedded))).fit(embedded)
        return self._weighted(index, points, self.codes)

    def _images(self, decoded: np.ndarray) -> list:
        from ..plots import as_images

        decoded = np.asarray(decoded, dtype=np.float64)
        low, high = self._display
        if self.is_image:
            scaled = (as_images(decoded) - low) / (high - low)
            return [_png(image) for image in scaled]
        return [_rounded(row.reshape(-1)[:64], 4) for row in decoded]

    def _condition(self, label: Any, n: int) -> dict[str, Any]:
        if not self.conditional:
            return {}
        if label is None:
            raise ValueError(f"label: {self.model_name} is conditional; pick one of {self.classes}")
        if str(label) not in self.classes:
            raise ValueError(f"label: {label!r} is not a class of the model ({self.classes})")
        value = self.model.classes_[self.classes.index(str(label))]
        return {"y": np.repeat(value, n)}

    def check_latent(self, Z: Any, name: str = "z") -> np.ndarray:
        """Latent vectors from a request, checked: shape, finiteness, batch size.

        Parameters
        ----------
        Z : array-like
            One vector or a list of vectors.
        name : str, default="z"
            The argument's name in error messages.

        Returns
        -------
        numpy.ndarray of shape (n, latent_dim)
        """
        try:
            array = np.asarray(Z, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numbers, a list of {self.latent_dim} or a list of "
                             "such lists") from None
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] != self.latent_dim:
            raise ValueError(f"{name} must hold vectors of length {self.latent_dim} (the latent "
                             f"dimension), got shape {list(np.shape(Z))}")
        if len(array) == 0:
            raise ValueError(f"{name} is empty")
        if len(array) > MAX_BATCH:
            raise OverflowError(f"{name} holds {len(array)} vectors; at most {MAX_BATCH} "
                                "per request")
        if not np.isfinite(array).all():
            raise ValueError(f"{name} holds NaN or infinite values")
        return array

    def item(self, index: int) -> dict[str, Any]:
        """One point: its input, its reconstruction, label, score, cluster and code."""
        if not 0 <= index < self.n_points:
            raise IndexError(f"index must be in [0, {self.n_points}), got {index}")
        if self.family == "lda":
            theta = self.doc_topic[index]
            return {"index": index, "label": None if self.labels is None else self.labels[index],
                    "text": self.documents[index][:600], "topics": _rounded(theta)}
        if self.family == "hmm":
            return {"index": index, "state": int(self.states[index]),
                    "values": _rounded(self.series[index]),
                    "posterior": _rounded(self.posteriors[index])}
        label = None if self.labels is None else self.labels[index]
        code = self.codes[index:index + 1]
        extra = self._condition(label, 1) if self.conditional else {}
        reconstruction = self.model.inverse_transform(code, **extra)
        return {
            "index": index, "label": label,
            "score": None if self.scores is None else round(float(self.scores[index]), 3),
            "cluster": int(self.clusters[index]), "code": _rounded(code[0]),
            "input": self._images(self.X[index:index + 1])[0],
            "reconstruction": self._images(reconstruction)[0],
        }

    def decode(self, Z: Any, *, label: Any = None) -> dict[str, Any]:
        """Decode latent vectors into images (or value lists for non-image data)."""
        Z = self.check_latent(Z)
        decoded = self.model.inverse_transform(Z, **self._condition(label, len(Z)))
        return {"z": _rounded(Z), "images": self._images(decoded)}

    def decode_map(self, points: Any, method: str = "pca", *, label: Any = None) -> dict[str, Any]:
        """Decode map positions: ``map_to_latent`` then :meth:`decode`."""
        try:
            array = np.asarray(points, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("xy must be numbers: [x, y] or a list of [x, y]") from None
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
            raise ValueError(f"xy must be [x, y] or a list of [x, y], got shape "
                             f"{list(np.shape(points))}")
        if len(array) > MAX_BATCH:
            raise OverflowError(f"xy holds {len(array)} points; at most {MAX_BATCH} per request")
        if not np.isfinite(array).all():
            raise ValueError("xy holds NaN or infinite values")
        result = self.decode(self.map_to_latent(array, method), label=label)
        result["exact"] = method == "pca"
        return result

    def interpolate(self, start: Any, end: Any, *, steps: int = 10, mode: str = "linear",
                    label: Any = None) -> dict[str, Any]:
        """Decoded path between two codes: each frame, and all of them as one PNG strip."""
        if mode not in ("linear", "spherical"):
            raise ValueError(f"mode must be 'linear' or 'spherical', got {mode!r}")
        if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= MAX_STEPS:
            raise ValueError(f"steps must be an int in [2, {MAX_STEPS}], got {steps!r}")
        a = self.check_latent(start, "start")[0]
        b = self.check_latent(end, "end")[0]
        t = np.linspace(0.0, 1.0, steps)
        path = a + t[:, None] * (b - a) if mode == "linear" else _slerp(a, b, t)
        decoded = np.asarray(self.model.inverse_transform(path, **self._condition(label, steps)))
        result = {"z": _rounded(path), "images": self._images(decoded), "mode": mode}
        if self.is_image:
            from ..plots import as_images

            low, high = self._display
            result["strip"] = _png(_strip((as_images(decoded) - low) / (high - low)))
        return result

    def sample(self, n: int = 8, *, seed: int = 0, label: Any = None) -> dict[str, Any]:
        """``n`` draws from the model's prior (``model.sample``), decoded."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_STEPS:
            raise ValueError(f"n must be an int in [1, {MAX_STEPS}], got {n!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 32:
            raise ValueError(f"seed must be an int in [0, 2**32), got {seed!r}")
        extra: dict[str, Any] = {}
        if self.conditional:
            extra["y"] = self._condition(label, n)["y"]
        drawn = np.asarray(self.model.sample(n, random_state=seed, **extra))
        return {"images": self._images(drawn)}

    def anomalies(self, n: int = 8, threshold: float | None = None) -> dict[str, Any]:
        """The ``n`` least and most typical items (lowest and highest scores), and how many
        fall below ``threshold``."""
        if self.family != "latent" or self.scores is None:
            raise ValueError(f"{self.model_name} gives no per-sample scores to rank")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_STEPS:
            raise ValueError(f"n must be an int in [1, {MAX_STEPS}], got {n!r}")
        order = np.argsort(self.scores, kind="stable")
        least, most = order[:n], order[::-1][:n]
        out: dict[str, Any] = {
            "least_typical": [self._entry(i) for i in least],
            "most_typical": [self._entry(i) for i in most],
            "quantiles": _rounded(np.quantile(self.scores, np.linspace(0, 1, 101)), 3),
            "score_source": self.score_source,
        }
        if threshold is not None:
            if not math.isfinite(threshold):
                raise ValueError("threshold must be a finite number")
            out["threshold"] = threshold
            out["n_flagged"] = int((self.scores < threshold).sum())
        return out

    def _entry(self, i: int) -> dict[str, Any]:
        return {"index": int(i), "score": round(float(self.scores[i]), 3),
                "label": None if self.labels is None else self.labels[i],
                "image": self._images(self.X[i:i + 1])[0]}

    # -- topics ------------------------------------------------------------------------------
    def topics(self) -> dict[str, Any]:
        """The intertopic distance map: positions (classical MDS of Jensen-Shannon distances),
        prevalence and three top words per topic."""
        top = np.argsort(-self.topic_word, axis=1)[:, :3]
        return {"x": _rounded(self.topic_map[:, 0]), "y": _rounded(self.topic_map[:, 1]),
                "prevalence": _rounded(self.prevalence),
                "names": [" ".join(self.words[w] for w in row) for row in top]}

    def topic(self, k: int, *, weight: float = 0.6, n_terms: int = 20,
              n_documents: int = 10) -> dict[str, Any]:
        """A topic's terms ranked by relevance at ``weight`` and its most typical documents."""
        n_topics = len(self.topic_word)
        if not 0 <= k < n_topics:
            raise IndexError(f"topic must be in [0, {n_topics}), got {k}")
        if not 1 <= n_terms <= 200:
            raise ValueError(f"n_terms must be in [1, 200], got {n_terms}")
        scores = relevance(self.topic_word[k:k + 1], self.term_frequency, weight)[0]
        order = np.argsort(-scores, kind="stable")[:n_terms]
        n_docs = len(self.documents)
        expected = self.prevalence[k] * n_docs
        docs = np.argsort(-self.doc_topic[:, k], kind="stable")[:n_documents]
        return {
            "topic": k, "weight": weight,
            "terms": [self.words[w] for w in order],
            "term_probability": _rounded(self.topic_word[k, order], 6),
            "term_frequency": _rounded(self.term_frequency[order], 6),
            "expected_documents": round(float(expected), 1),
            "documents": [{"index": int(d), "share": round(float(self.doc_topic[d, k]), 3),
                           "label": None if self.labels is None else self.labels[d],
                           "text": self.documents[d][:300]} for d in docs],
        }

    # -- hidden states -----------------------------------------------------------------------
    def sequence(self) -> dict[str, Any]:
        """The series, each step's decoded state and the state posteriors."""
        return {"values": [_rounded(self.series[:, j]) for j in range(self.series.shape[1])],
                "states": self.states.tolist(),
                "posteriors": [_rounded(self.posteriors[:, k], 3)
                               for k in range(self.posteriors.shape[1])],
                "features": self.feature_names}

    def state(self, k: int) -> dict[str, Any]:
        """One hidden state: its emission parameters, transition row and occupancy."""
        n_states = int(self.model.n_components)
        if not 0 <= k < n_states:
            raise IndexError(f"state must be in [0, {n_states}), got {k}")
        emission = {}
        for name in ("means_", "covars_", "emissionprob_", "lambdas_", "weights_"):
            value = getattr(self.model, name, None)
            if value is not None:
                emission[name.rstrip("_")] = _rounded(np.asarray(value)[k])
        return {"state": k, "transition": _rounded(np.asarray(self.model.transmat_)[k]),
                "start": round(float(np.asarray(self.model.startprob_)[k]), 4),
                "emission": emission, "occupancy": int((self.states == k).sum()),
                "features": self.feature_names}

    def labels_matching(self, query: str) -> list[int]:
        """Indices of the points whose label contains ``query`` (case-insensitive)."""
        if self.labels is None:
            return []
        needle = query.strip().lower()
        return [i for i, label in enumerate(self.labels) if needle in label.lower()]

