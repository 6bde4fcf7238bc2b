"""Latent Dirichlet allocation: documents are the data, topic proportions the latent code.

One estimator, two ways to fit it. ``method="vb"``: variational Bayes (Hoffman, Blei & Bach
2010), in batch mode or online with minibatches and :meth:`LDA.partial_fit` for corpora
larger than memory. ``method="gibbs"``: collapsed Gibbs sampling (Griffiths & Steyvers
2004), compiled with numba, with the SparseLDA bucket sampler when topics are many; it is
the default, as it reaches the better held-out perplexity. Both split documents into shards
whose statistics are sums: shards run on parallel threads, and the sums are all-reduced over
``torch.distributed`` processes when a process group is initialised (each process passes
its own documents).
"""

from __future__ import annotations

import math
import os
import sys
import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, ClassVar, TextIO

import numba
import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import digamma, gammaln, polygamma
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._internal import io, threads
from .._internal.checkpoints import Checkpointer, array_digest, expect, expect_floats
from .._internal.distributed import (
    allreduce_arrays,
    broadcast_arrays,
    distributed_info,
    ensure_process_group,
)
from .._internal.progress import FitProgress
from .._internal.validation import (
    check_affordable,
    check_data,
    check_positive_int,
    check_random_state,
)
from ..base import LatentModel, jsonable_params
from . import _file, _kernels, _params
from ._data import shard_bounds, to_counts
from .text import TextCorpus

# VB sums its statistics in this many shards at least (see _estep).
_STATISTICS_SHARDS = 8

_DEFAULT_ITER = {"batch": 30, "online": 10, "gibbs": 200}

#: Hyper-parameters that may change between a killed fit and its resume.
_RESUMABLE_CHANGES = frozenset({"verbose", "checkpoint_dir", "checkpoint_every", "n_jobs"})
#: Checkpoint every this many iterations when ``checkpoint_every`` is None.
_DEFAULT_CHECKPOINT_EVERY = 10


# -- small helpers ---------------------------------------------------------------------
def _dist_world() -> int:
    return distributed_info()[1]


def _allreduce(*arrays: np.ndarray) -> list[np.ndarray]:
    """Sum arrays over the process group, each keeping its dtype (identity outside one)."""
    if _dist_world() == 1:
        return list(arrays)
    summed = allreduce_arrays({str(i): np.asarray(a) for i, a in enumerate(arrays)})
    return [summed[str(i)].astype(np.asarray(a).dtype) for i, a in enumerate(arrays)]


def _broadcast(array: np.ndarray) -> np.ndarray:
    """Rank 0's copy of ``array`` on every process, so all ranks start from one point."""
    return broadcast_arrays({"array": array})["array"]


def _minibatch_updates_are_variational(model: LDA) -> bool:
    """``partial_fit`` exists only for ``method="vb"``; the reason travels with the
    AttributeError scikit-learn's ``available_if`` raises otherwise."""
    if isinstance(model.method, str) and model.method == "gibbs":
        # (an invalid method falls through, so that partial_fit's checks name it)
        raise AttributeError(
            f"partial_fit needs method='vb' (minibatch updates are variational), got "
            f"{model.method!r}: use LDA(method='vb', ...)"
        )
    return True


@contextmanager
def _threads(n_jobs: int | None):
    """Lay the work out for ``n_jobs`` threads (all cores numba sees by default) and yield
    that count; the threads actually running may be fewer (see ``LDA._timed_step``).

    The layout (shards) depends on this count only, never on the load, so results do not
    change when the thread policy runs fewer threads on a busy machine. Restores numba's
    count afterwards."""
    explicit = threads.explicit_threads(n_jobs)
    wanted = numba.config.NUMBA_NUM_THREADS if explicit is None else explicit
    with threads.restored_threads():
        numba.set_num_threads(max(1, min(int(wanted), numba.config.NUMBA_NUM_THREADS)))
        yield numba.get_num_threads()


def _inverse_digamma(y: np.ndarray) -> np.ndarray:
    # Minka's starting point, then Newton steps on digamma(x) = y
    y = np.asarray(y, dtype=np.float64)
    x = np.where(y >= -2.22, np.exp(y) + 0.5, -1.0 / (y - digamma(1.0)))
    for _ in range(6):
        x = x - (digamma(x) - y) / polygamma(1, x)
        x = np.maximum(x, 1e-12)
    return x


def _optimize_alpha(alpha: np.ndarray, mean_elog_theta: np.ndarray, symmetric: bool) -> np.ndarray:
    """Maximise ``sum_d log Dir(theta_d | alpha)`` in expectation (Minka's fixed point).

    ``mean_elog_theta[k]`` is the average over documents of ``E[log theta_dk]``; the fixed
    point is ``digamma(alpha_k) = digamma(sum alpha) + mean_elog_theta[k]``.
    """
    target = mean_elog_theta
    if symmetric:
        target = np.full_like(mean_elog_theta, mean_elog_theta.mean())
    for _ in range(20):
        new = _inverse_digamma(digamma(alpha.sum()) + target)
        if np.max(np.abs(new - alpha)) < 1e-8 * alpha.max():
            return new
        alpha = new
    return np.clip(alpha, 1e-6, None)


def _exp_elog_beta(lam_t: np.ndarray) -> np.ndarray:
    """``exp(E[log beta])`` of Dirichlet rows ``lam_t`` stored word-major ``(V, K)``."""
    return np.exp(digamma(lam_t) - digamma(lam_t.sum(axis=0, keepdims=True)))


class LDA(LatentModel):
    """Latent Dirichlet allocation (topic model) fitted by Gibbs sampling or variational Bayes.

    Parameters
    ----------
    n_components : int, default=10
        Number of topics K.
    method : {"gibbs", "vb"}, default="gibbs"
        ``"gibbs"``: collapsed Gibbs sampling, sparse where topics are many; on 20
        Newsgroups it reaches a lower held-out perplexity than VB at about tomotopy's speed.
        ``"vb"``: variational Bayes; streams minibatches with :meth:`partial_fit` for
        corpora larger than memory.
    doc_topic_prior : float, array-like of shape (K,), "asymmetric" or None, default=None
        Dirichlet prior ``alpha`` on each document's topic proportions: a number
        (symmetric), K numbers (asymmetric), ``"asymmetric"`` (``alpha_k ∝ 1 / (k +
        sqrt(K))``, summing to 1) or ``None`` for ``1 / K``.
    topic_word_prior : float or None, default=None
        Symmetric Dirichlet prior ``eta`` on each topic's words; ``None`` means ``1 / K``
        for ``"vb"`` and ``0.01`` for ``"gibbs"``.
    learning_method : {"batch", "online"}, default="batch"
        ``"batch"`` (all documents each pass) or ``"online"`` (minibatches, Hoffman et
        al.'s stochastic updates); VB only.
    learning_decay : float in (0.5, 1], default=0.7
        Online step size exponent kappa in ``(learning_offset + t)^-kappa``.
    learning_offset : float >= 0, default=10.0
        Online step size delay tau0 (down-weights early minibatches).
    max_iter : int or None, default=None
        Passes over the corpus (VB) or sweeps (Gibbs); ``None`` means 30 (batch), 10
        (online) or 200 (Gibbs).
    batch_size : int, default=256
        Documents per online minibatch.
    total_samples : int, default=1_000_000
        Corpus size assumed by :meth:`partial_fit` (online updates scale the minibatch
        statistics to it).
    tol : float >= 0, default=1e-4
        Batch VB stops when the bound improves by less than ``tol`` relative.
    max_doc_update_iter : int, default=100
        Most fixed-point iterations per document in the E-step.
    mean_change_tol : float >= 0, default=1e-3
        A document's E-step stops when the mean absolute change of its ``gamma`` falls
        below ``mean_change_tol * max(1, n_d / K)`` (relative to the mean topic count, so
        long documents are held to the same standard as short ones).
    optimize_priors : bool, default=False
        Re-estimate ``doc_topic_prior`` (Minka's fixed point) during fit, keeping it
        symmetric if it was given as a number.
    n_jobs : int or None, default=None
        Threads for the compiled kernels. ``None`` (automatic): the work is laid out for
        all cores numba sees (or the CLI's ``--threads``), and each iteration runs on one
        thread or on all of them, whichever was faster when last timed, so a busy machine
        costs little; results do not depend on that choice.
    random_state : int, numpy Generator, RandomState or None, default=None
        Seed of the fit.
    verbose : int, default=0
        Print a line every this many iterations (0: silent); a fit lasting more than about
        a second also draws a progress bar.
    checkpoint_dir : str, path or None, default=None
        Folder for checkpoints of the fit (written atomically); ``fit(X, resume=True)``
        continues from the last one and ends exactly as an uninterrupted fit.
    checkpoint_every : int or None, default=None
        Write a checkpoint every this many iterations (``None``: every 10) and after the
        last one; needs ``checkpoint_dir``.

    Attributes
    ----------
    components_ : ndarray of shape (K, V)
        Topic-word pseudo-counts (variational ``lambda`` for VB; word-topic counts plus
        ``eta`` for Gibbs). Rows normalised: :attr:`topic_word_`.
    doc_topic_prior_ : ndarray of shape (K,)
        The ``alpha`` used (re-estimated if asked).
    topic_word_prior_ : float
        The ``eta`` used.
    n_features_in_ : int
        Number of words V.
    vocabulary_ : Vocabulary or None
        The :class:`~latentmodels.lda.text.Vocabulary` when fitted on a
        :class:`~latentmodels.lda.text.TextCorpus`, else ``None``.
    bound_ : list of float
        Per-iteration bound (VB) or per-token log-likelihood (Gibbs) history.
    n_iter_, n_batch_iter_ : int
        Iterations (passes or sweeps) and online minibatch updates done.
    mean_doc_length_ : float
        Mean training document length (the default length of :meth:`sample`).
    n_unknown_tokens_ : int
        Tokens ignored by the last transform because the vocabulary lacks them.

    Notes
    -----
    Hyper-parameter rules are declared in ``_parameter_constraints`` and checked by
    scikit-learn's ``_validate_params`` when fitting. Under ``torchrun`` the fit joins the
    process group itself; each process passes its own documents. Saved files are checked
    field by field when loaded (:meth:`load`).

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.lda.model import LDA
    >>> rng = np.random.default_rng(0)
    >>> X = rng.poisson(1.0, size=(40, 30))
    >>> lda = LDA(n_components=3, random_state=0).fit(X)
    >>> lda.transform(X[:2]).shape, lda.components_.shape
    ((2, 3), (3, 30))
    """

    def __init__(
        self,
        n_components: int = 10,
        *,
        method: str = "gibbs",
        doc_topic_prior: float | str | Any | None = None,
        topic_word_prior: float | None = None,
        learning_method: str = "batch",
        learning_decay: float = 0.7,
        learning_offset: float = 10.0,
        max_iter: int | None = None,
        batch_size: int = 256,
        total_samples: int = 1_000_000,
        tol: float = 1e-4,
        max_doc_update_iter: int = 100,
        mean_change_tol: float = 1e-3,
        optimize_priors: bool = False,
        n_jobs: int | None = None,
        random_state: Any = None,
        verbose: int = 0,
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.method = method
        self.doc_topic_prior = doc_topic_prior
        self.topic_word_prior = topic_word_prior
        self.learning_method = learning_method
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.total_samples = total_samples
        self.tol = tol
        self.max_doc_update_iter = max_doc_update_iter
        self.mean_change_tol = mean_change_tol
        self.optimize_priors = optimize_priors
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every

    # -- parameters --------------------------------------------------------------------
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = _params.PARAMETER_CONSTRAINTS

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # word counts
        tags.input_tags.sparse = True  # CSR/CSC/COO matrices and arrays
        # Gibbs sampling gives each token a topic, so it takes integer counts only
        tags.input_tags.categorical = self.method == "gibbs"
        return tags

    def _check_parameters(self) -> None:
        """Each hyper-parameter against its declared rule, then the rules that join two."""
        _params.validate(self)
        self._check_parameter_combinations()

    def _check_parameter_combinations(self) -> None:
        """Rules that involve more than one hyper-parameter (the declared constraints
        check each one alone)."""
        prior = self.doc_topic_prior
        if prior is not None and not isinstance(prior, str) and np.ndim(prior) > 0:
            alpha = np.asarray(prior, dtype=np.float64).ravel()
            if alpha.shape != (self.n_components,):
                raise ValueError(
                    f"doc_topic_prior must have n_components={self.n_components} entries, "
                    f"got {alpha.size}"
                )
            if not (np.isfinite(alpha).all() and (alpha > 0).all()):
                raise ValueError("doc_topic_prior entries must be finite and > 0")
        if self.checkpoint_every is not None and self.checkpoint_dir is None:
            raise ValueError("checkpoint_every needs checkpoint_dir (where to write)")

    def _resolve_priors(self) -> tuple[np.ndarray, float]:
        k = self.n_components
        prior = self.doc_topic_prior
        if prior is None:
            alpha = np.full(k, 1.0 / k)
        elif isinstance(prior, str):  # "asymmetric"
            raw = 1.0 / (np.arange(k) + np.sqrt(k))
            alpha = raw / raw.sum()
        elif np.ndim(prior) == 0:
            alpha = np.full(k, float(prior))
        else:
            alpha = np.asarray(prior, dtype=np.float64).ravel().copy()
        if self.topic_word_prior is None:
            eta = 1.0 / k if self.method == "vb" else 0.01
        else:
            eta = float(self.topic_word_prior)
        return alpha, eta

    def _n_iter(self) -> int:
        if self.max_iter is not None:
            return int(self.max_iter)
        return _DEFAULT_ITER["gibbs" if self.method == "gibbs" else self.learning_method]

    def _say(self, message: str) -> None:
        print(f"[LDA] {message}", file=sys.stderr, flush=True)

    # -- input -------------------------------------------------------------------------
    def _training_counts(self, X: Any) -> sp.csr_matrix:
        vocab = getattr(self, "vocabulary_", None)
        width = getattr(self, "n_features_in_", None)
        counts, _ = to_counts(X, vocab, width, "X", integer=self.method == "gibbs")
        return counts

    def _new_counts(self, X: Any, name: str = "X") -> sp.csr_matrix:
        check_is_fitted(self, "components_")
        # inference is a variational E-step, defined for any non-negative weights
        counts, unknown = to_counts(X, self.vocabulary_, self.n_features_in_, name,
                                    integer=False)
        self.n_unknown_tokens_ = int(unknown)
        return counts

    def _start(self, X: Any) -> sp.csr_matrix:
        """Validate parameters and data, set the learned state that fit starts from."""
        self._check_parameters()
        ensure_process_group("cpu")
        self.vocabulary_ = X.vocabulary if isinstance(X, TextCorpus) else None
        for name in ("n_features_in_", "components_"):
            self.__dict__.pop(name, None)
        self._online = None
        counts = self._training_counts(X)
        if _allreduce(np.array([counts.sum()]))[0][0] <= 0:
            raise ValueError("X has no tokens: every document is empty")
        self.n_features_in_ = counts.shape[1]
        # topics x words and documents x topics, a few copies each: refuse before allocating
        check_affordable(self.n_components, 8 * 4 * (sum(counts.shape) + 1), "n_components")
        alpha, eta = self._resolve_priors()
        self.doc_topic_prior_ = alpha
        self.topic_word_prior_ = float(eta)
        self._seed = check_random_state(self.random_state)
        self.bound_ = []
        self.n_iter_ = 0
        self.n_batch_iter_ = 0
        self.n_unknown_tokens_ = 0  # set here so that transforming counts changes nothing
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        total, n_docs = _allreduce(np.array([lengths.sum()]), np.array([float(len(lengths))]))
        self.mean_doc_length_ = float(total[0] / max(n_docs[0], 1.0))
        return counts

    # -- fitting -----------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, resume: bool = False) -> LDA:
        """Fit topics to ``X``.

        Parameters
        ----------
        X : TextCorpus, sparse matrix, ndarray or torch.Tensor of shape (n_documents, V)
            A :class:`~latentmodels.lda.text.TextCorpus` or a matrix of word counts (any
            scipy sparse format, numpy, torch). Under ``torchrun`` the process joins the
            group itself and each process passes its own documents (same words).
        y : None
            Ignored.
        resume : bool, default=False
            Continue from the last checkpoint in ``checkpoint_dir`` (start afresh if there
            is none); the result is exactly that of an uninterrupted fit.

        Returns
        -------
        LDA
            ``self``, fitted.

        Examples
        --------
        >>> import numpy as np, tempfile
        >>> X = np.random.default_rng(0).poisson(1.0, (20, 10))
        >>> folder = tempfile.mkdtemp()
        >>> a = LDA(2, max_iter=6, random_state=0, checkpoint_dir=folder, checkpoint_every=2).fit(X)
        >>> b = LDA(2, max_iter=6, random_state=0, checkpoint_dir=folder).fit(X, resume=True)
        >>> bool((a.components_ == b.components_).all())
        True
        """
        if not isinstance(resume, bool):
            raise TypeError(f"resume must be True or False, got {resume!r}")
        counts = self._start(X)
        if resume and self.checkpoint_dir is None:
            raise ValueError("resume: resume=True needs checkpoint_dir to be set")
        with _threads(self.n_jobs) as n_threads:
            self._checkpointer = self._make_checkpointer(counts, n_threads, resume)
            # per iteration: run the faster of 1 and n_threads threads (automatic mode only)
            self._thread_switcher = threads.fit_switcher(
                self.n_jobs, ceiling=n_threads, apply=threads.set_numba_threads,
                window_steps=1, window_seconds=0.0, reprobe_seconds=3.0, settle_steps=0)
            try:
                if self.method == "gibbs":
                    self._fit_gibbs(counts, n_threads)
                elif self.learning_method == "batch":
                    self._fit_vb_batch(counts, n_threads)
                else:
                    self._fit_vb_online(counts, n_threads)
            finally:
                self._checkpointer, self._resume_from = None, None
                self._thread_switcher = None
        if not np.isfinite(self.components_).all():
            raise FloatingPointError("LDA fit produced non-finite topics; check the input")
        return self

    # -- checkpoints -------------------------------------------------------------------
    def _make_checkpointer(
        self, counts: sp.csr_matrix, n_threads: int, resume: bool
    ) -> Checkpointer | None:
        """Set up checkpoint writing; with ``resume``, load the state to continue from."""
        self._resume_from = None
        if self.checkpoint_dir is None:
            return None
        rank, world = distributed_info()
        every = self.checkpoint_every or _DEFAULT_CHECKPOINT_EVERY
        params = jsonable_params(self.get_params(deep=False))
        signature = {
            k: v for k, v in params.items() if k not in _RESUMABLE_CHANGES
        }

        def make() -> Checkpointer:
            signature.update(
                seed=int(self._seed), n_threads=int(n_threads), world_size=int(world),
                data=array_digest(
                    np.array(counts.shape), counts.indptr, counts.indices, counts.data
                ),
            )
            # Each rank keeps its own documents' state, so its own file.
            stem = "lda_checkpoint" if rank == 0 else f"lda_checkpoint.rank{rank}"
            return Checkpointer(
                self.checkpoint_dir, every, signature, kind="lda-checkpoint", stem=stem
            )

        checkpointer = make()
        if not resume:
            return checkpointer
        if self.random_state is None:
            stored = checkpointer.stored_seed()
            if stored is not None:
                self._seed = stored
                checkpointer = make()
        loaded = checkpointer.load()
        iteration = -1 if loaded is None else loaded[0]
        lowest, highest = _allreduce(np.array([iteration]), np.array([-iteration]))
        if world > 1 and (lowest[0] != iteration * world or highest[0] != -iteration * world):
            raise ValueError(
                "resume: the ranks' checkpoints are from different iterations; remove "
                "checkpoint_dir's files to start over"
            )
        self._resume_from = loaded
        return checkpointer

    def _checkpoint(self, iteration: int, last: bool, arrays: dict[str, np.ndarray],
                    extra: dict[str, Any]) -> None:
        checkpointer = getattr(self, "_checkpointer", None)
        if checkpointer is None or not checkpointer.due(iteration, last):
            return
        extra = {
            "bound": [float(b) for b in self.bound_],
            "n_batch_iter": int(self.n_batch_iter_),
            **extra,
        }
        arrays = {"doc_topic_prior": np.asarray(self.doc_topic_prior_, np.float64), **arrays}
        checkpointer.save(iteration, arrays, extra)

    def _restore(self) -> tuple[int, dict[str, np.ndarray], dict[str, Any]] | None:
        """The loaded checkpoint (iteration, arrays, extra) after restoring what all
        methods share: the history, the prior and the minibatch count."""
        loaded = getattr(self, "_resume_from", None)
        if loaded is None:
            return None
        iteration, arrays, extra = loaded
        self.bound_ = expect_floats(extra, "bound")
        n_batch = extra.get("n_batch_iter")
        if isinstance(n_batch, bool) or not isinstance(n_batch, int) or n_batch < 0:
            raise io.ModelFileError("resume: checkpoint field 'n_batch_iter' is not a count")
        self.n_batch_iter_ = n_batch
        alpha = expect(
            arrays, "doc_topic_prior", (self.n_components,), np.float64
        )
        if not (alpha > 0).all():
            raise io.ModelFileError("resume: checkpoint field 'doc_topic_prior' must be > 0")
        self.doc_topic_prior_ = alpha
        self.n_iter_ = iteration + 1
        return iteration, arrays, extra

    def _progress(self, total: int, label: str, start: int) -> FitProgress:
        return FitProgress(
            bool(self.verbose) and distributed_info()[0] == 0, total, label, title="LDA",
            start=start,
        )

    @available_if(_minibatch_updates_are_variational)
    def partial_fit(self, X: Any, y: Any = None) -> LDA:
        """One online VB update from a minibatch ``X`` (streams corpora larger than memory).

        The first call sets up the model (vocabulary from a TextCorpus); statistics are scaled
        to ``total_samples`` documents. Exists only with ``method="vb"`` (scikit-learn's
        ``available_if``: ``hasattr(LDA(method="gibbs"), "partial_fit")`` is False). To
        survive a kill, save after each call and, on restart, :meth:`load` and continue with
        the next minibatch: the model ends identical to one never reloaded.

        Parameters
        ----------
        X : TextCorpus, sparse matrix or ndarray of shape (n_documents, V)
            The minibatch's word counts.
        y : None
            Ignored.

        Returns
        -------
        LDA
            ``self``, updated.

        Examples
        --------
        >>> import numpy as np
        >>> lda = LDA(n_components=2, method="vb", total_samples=100, random_state=0)
        >>> for _ in range(3):
        ...     _ = lda.partial_fit(np.random.default_rng(0).poisson(1, (10, 8)))
        >>> lda.n_batch_iter_
        3
        """
        self._check_parameters()
        if not hasattr(self, "components_"):
            counts = self._start(X)
            self._init_lambda(counts)
        else:
            ensure_process_group("cpu")
            counts = self._new_counts(X)
        with _threads(self.n_jobs) as n_threads:
            gamma = self._initial_gamma(counts)
            self._online_step(counts, gamma, n_threads, float(self.total_samples))
        self._sync_components()
        # The next call rebuilds its state from components_, exactly as a model saved and
        # loaded between calls does: a partial_fit loop may save after each call and, after
        # a kill, load and continue to the same result.
        self._online = None
        return self

    def _init_lambda(self, counts: sp.csr_matrix | None = None) -> None:
        """Random topics, pulled towards K dissimilar seed documents when data is given.

        Seeds are chosen k-means++ style (each new seed with probability proportional to
        its squared cosine distance from the nearest seed so far), which starts topics
        apart and makes poor local optima (two topics merged, one split) much rarer than
        with purely random starts.
        """
        rng = np.random.default_rng(self._seed)
        k, v = self.n_components, self.n_features_in_
        lam = rng.gamma(100.0, 1.0 / 100.0, size=(k, v))
        if counts is not None and counts.shape[0] > 0 and counts.nnz:
            pool = counts[rng.permutation(counts.shape[0])[: max(50 * k, 2000)]]
            pool = pool[np.asarray(pool.sum(axis=1)).ravel() > 0]
            unit = sp.csr_matrix(pool.multiply(1.0 / np.sqrt(pool.multiply(pool).sum(axis=1))))
            seeds = [int(rng.integers(pool.shape[0]))]
            nearest = np.asarray((unit @ unit[seeds[0]].T).todense()).ravel()
            for _ in range(1, min(k, pool.shape[0])):
                weight = np.clip(1.0 - nearest, 0.0, None) ** 2
                total = weight.sum()
                pick = int(rng.choice(len(weight), p=weight / total)) if total > 0 else 0
                seeds.append(pick)
                nearest = np.maximum(nearest, np.asarray((unit @ unit[pick].T).todense()).ravel())
            # about three documents' worth of words: a direction to start from, not a verdict
            mass = 3.0 * float(counts.sum()) / counts.shape[0]
            for topic, seed in enumerate(seeds):
                row = pool[seed].toarray().ravel()
                lam[topic] += mass * row / row.sum()
        self.components_ = _broadcast(lam)

    def _initial_gamma(self, counts: sp.csr_matrix) -> np.ndarray:
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        return self.doc_topic_prior_[None, :] + lengths[:, None] / self.n_components

    def _estep(
        self,
        counts: sp.csr_matrix,
        gamma: np.ndarray,
        exp_elog_beta_t: np.ndarray,
        n_threads: int,
        with_stats: bool,
        keep_better: int = 0,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Fit ``gamma`` in place; returns per-document bounds and ``(V, K)`` statistics."""
        lengths = np.diff(counts.indptr)
        # Statistics are summed over a fixed number of shards (V x K slabs), whatever the
        # thread count, so 1 thread and 8 give the same bits and a fit resumed on a busier
        # machine ends where the uninterrupted one ends; finer shards balance bound-only work.
        if with_stats:
            shards = shard_bounds(lengths + 1, max(n_threads, _STATISTICS_SHARDS))
        else:
            shards = shard_bounds(lengths + 1, n_threads * 4 if n_threads > 1 else 1)
        n_shards = len(shards) - 1
        v, k = exp_elog_beta_t.shape
        # the kernel trusts its arrays (no bounds checks): their shapes must agree
        if (
            counts.shape[1] != v
            or np.shape(self.doc_topic_prior_) != (k,)
            or gamma.shape != (counts.shape[0], k)
            or (counts.nnz and int(counts.indices.max()) >= v)
        ):
            raise ValueError(
                f"the model's arrays disagree (counts {counts.shape}, topics {(v, k)}, "
                f"doc_topic_prior {np.shape(self.doc_topic_prior_)}); refit or reload the model"
            )
        sstats = np.zeros((n_shards, v, k) if with_stats else (0, 0, 0))
        bounds = _kernels.vb_estep(
            counts.indptr.astype(np.int64), counts.indices.astype(np.int64), counts.data,
            exp_elog_beta_t, self.doc_topic_prior_, gamma, shards,
            int(self.max_doc_update_iter), float(self.mean_change_tol), sstats, int(keep_better),
        )
        if not with_stats:
            return bounds, None
        return bounds, sstats.sum(axis=0) * exp_elog_beta_t

    def _topic_term_bound(self, lam: np.ndarray) -> float:
        """``E[log p(beta|eta) - log q(beta|lambda)]`` summed over topics."""
        eta = self.topic_word_prior_
        v = lam.shape[1]
        elog_beta = digamma(lam) - digamma(lam.sum(axis=1, keepdims=True))
        total = np.sum((eta - lam) * elog_beta) + np.sum(gammaln(lam))
        total -= np.sum(gammaln(lam.sum(axis=1)))
        total += lam.shape[0] * (gammaln(v * eta) - v * gammaln(eta))
        return float(total)

    def _update_alpha(self, gamma: np.ndarray, nonempty: np.ndarray) -> None:
        g = gamma[nonempty]
        elog = digamma(g) - digamma(g.sum(axis=1, keepdims=True))
        sums, count = _allreduce(elog.sum(axis=0), np.array([float(len(g))]))
        self.doc_topic_prior_ = _optimize_alpha(
            self.doc_topic_prior_.copy(), sums / max(count[0], 1.0), self._symmetric_prior()
        )

    def _symmetric_prior(self) -> bool:
        prior = self.doc_topic_prior
        return prior is None or (not isinstance(prior, str) and np.ndim(prior) == 0)

    def _timed_step(self) -> AbstractContextManager:
        """Time one E-step (or sweep) for the thread switcher of the fit in progress."""
        switcher = getattr(self, "_thread_switcher", None)
        return switcher.step() if switcher is not None else nullcontext()

    def _fit_vb_batch(self, counts: sp.csr_matrix, n_threads: int) -> None:
        self._init_lambda(counts)
        gamma = self._initial_gamma(counts)
        nonempty = np.diff(counts.indptr) > 0
        previous = -np.inf
        first = 0
        restored = self._restore()
        if restored is not None:
            first, arrays, extra = restored
            first += 1
            k, v = self.n_components, self.n_features_in_
            lam = expect(arrays, "components", (k, v), np.float64)
            gamma = expect(arrays, "gamma", gamma.shape, np.float64)
            if not ((lam > 0).all() and (gamma > 0).all()):
                raise io.ModelFileError("resume: checkpoint topics and gamma must be > 0")
            # the M-step leaves a transposed (Fortran-ordered) array; sums over it must
            # see the same memory order to round the same way
            self.components_ = np.asfortranarray(lam)
            previous = extra.get("previous_bound")
            if previous is None:
                previous = -np.inf
            elif isinstance(previous, bool) or not isinstance(previous, (int, float)):
                raise io.ModelFileError("resume: checkpoint field 'previous_bound' is not a number")
            if extra.get("converged") is True:
                first = self._n_iter()
        n_iter = self._n_iter()
        with self._progress(n_iter, "VB passes", first) as progress:
            for it in range(first, n_iter):
                started = time.perf_counter()
                lam_t = np.ascontiguousarray(self.components_.T)
                with self._timed_step():
                    bounds, sstats = self._estep(
                        counts, gamma, _exp_elog_beta(lam_t), n_threads, True, keep_better=it > 0
                    )
                doc_bound, sstats = _allreduce(np.array([bounds.sum()]), sstats)
                # bound of (gamma, lambda) before the M-step: never decreases from pass to pass
                bound = float(doc_bound[0]) + self._topic_term_bound(self.components_)
                self.bound_.append(bound)
                self.components_ = self.topic_word_prior_ + sstats.T
                if self.optimize_priors:
                    self._update_alpha(gamma, nonempty)
                self.n_iter_ = it + 1
                if self.verbose and (it + 1) % self.verbose == 0:
                    seconds = time.perf_counter() - started
                    self._say(f"pass {it + 1}: bound {bound:.6g} ({seconds:.2f} s)")
                progress.update(it + 1, f"bound {bound:.6g}")
                converged = bool(
                    np.isfinite(previous) and abs(bound - previous) <= self.tol * abs(bound)
                )
                self._checkpoint(
                    it, converged or it == n_iter - 1,
                    {"components": self.components_, "gamma": gamma},
                    {"previous_bound": bound if np.isfinite(bound) else None,
                     "converged": converged},
                )
                if converged:
                    break
                previous = bound

    def _online_state(self) -> dict[str, Any]:
        """Topics kept as ``lambda = scale * M + offset`` (word-major), so that an online
        step touches only the rows of the words in its minibatch: the ``(1 - rho)`` decay
        and the ``rho * eta`` term of every other entry go into ``scale`` and ``offset``.
        """
        state = getattr(self, "_online", None)
        if state is None:
            lam_t = np.array(self.components_.T, dtype=np.float64, order="C")
            state = {"M": lam_t, "scale": 1.0, "offset": 0.0, "topic_sum": lam_t.sum(axis=0)}
            self._online = state
        return state

    def _sync_components(self) -> None:
        state = self._online
        lam_t = state["scale"] * state["M"] + state["offset"]
        self.components_ = np.ascontiguousarray(lam_t.T)
        state["topic_sum"] = lam_t.sum(axis=0)

    def _online_step(
        self, counts: sp.csr_matrix, gamma: np.ndarray, n_threads: int, corpus_size: float
    ) -> np.ndarray:
        state = self._online_state()
        v = self.n_features_in_
        if _dist_world() == 1:
            words, local = np.unique(counts.indices, return_inverse=True)
            counts = sp.csr_matrix(
                (counts.data, local.ravel(), counts.indptr), shape=(counts.shape[0], len(words))
            )
        else:
            words = np.arange(v)  # every process must reduce arrays of the same shape
        lam_rows = state["scale"] * state["M"][words] + state["offset"]
        eeb = np.exp(digamma(lam_rows) - digamma(state["topic_sum"])[None, :])
        bounds, sstats = self._estep(counts, gamma, eeb, n_threads, True)
        n_batch, sstats = _allreduce(np.array([float(counts.shape[0])]), sstats)
        rho = (self.learning_offset + self.n_batch_iter_ + 1.0) ** (-self.learning_decay)
        weight = rho * corpus_size / max(n_batch[0], 1.0)
        scale = (1.0 - rho) * state["scale"]
        state["offset"] = (1.0 - rho) * state["offset"] + rho * self.topic_word_prior_
        state["M"][words] += (weight / scale) * sstats
        state["topic_sum"] = (1.0 - rho) * state["topic_sum"] + rho * (
            self.topic_word_prior_ * v
        ) + weight * sstats.sum(axis=0)
        if scale < 1e-50:  # fold the shrinking scale back into M before it underflows
            state["M"] *= scale
            scale = 1.0
        state["scale"] = scale
        self.n_batch_iter_ += 1
        return bounds

    def _fit_vb_online(self, counts: sp.csr_matrix, n_threads: int) -> None:
        self._init_lambda(counts)
        self._online = None
        rng = np.random.default_rng(self._seed + 1)
        gamma = self._initial_gamma(counts)
        first = 0
        restored = self._restore()
        if restored is not None:
            first, arrays, extra = restored
            first += 1
            k, v = self.n_components, self.n_features_in_
            gamma = expect(arrays, "gamma", gamma.shape, np.float64)
            state = {
                "M": expect(arrays, "M", (v, k), np.float64),
                "topic_sum": expect(arrays, "topic_sum", (k,), np.float64),
            }
            for name in ("scale", "offset"):
                value = extra.get(name)
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    np.isfinite(value) and value >= 0
                ):
                    raise io.ModelFileError(f"resume: checkpoint field {name!r} is not a number")
                state[name] = float(value)
            try:
                rng.bit_generator.state = extra["rng"]
            except (KeyError, TypeError, ValueError) as exc:
                raise io.ModelFileError("resume: checkpoint field 'rng' is not valid") from exc
            self._online = state  # topic_sum as saved: recomputing it would round differently
        n_docs = counts.shape[0]
        corpus_size = float(_allreduce(np.array([float(n_docs)]))[0][0])
        # every process takes the same number of steps per pass, or all-reduce would hang
        n_steps = int(_allreduce(np.array([float(math.ceil(n_docs / self.batch_size))]))[0][0])
        n_steps = max(1, math.ceil(n_steps / _dist_world()))
        nonempty = np.diff(counts.indptr) > 0
        n_iter = self._n_iter()
        with self._progress(n_iter, "online VB passes", first) as progress:
            for it in range(first, n_iter):
                started = time.perf_counter()
                order = rng.permutation(n_docs)
                total_bound = 0.0
                for batch in np.array_split(order, n_steps):
                    batch = np.sort(batch)
                    g = gamma[batch]
                    with self._timed_step():
                        bounds = self._online_step(counts[batch], g, n_threads, corpus_size)
                    total_bound += float(bounds.sum())
                    gamma[batch] = g
                if self.optimize_priors:
                    self._update_alpha(gamma, nonempty)
                self.bound_.append(float(_allreduce(np.array([total_bound]))[0][0]))
                self.n_iter_ = it + 1
                if self.verbose and (it + 1) % self.verbose == 0:
                    self._say(
                        f"pass {it + 1}: minibatch bound {self.bound_[-1]:.6g} "
                        f"({time.perf_counter() - started:.2f} s)"
                    )
                progress.update(it + 1, f"bound {self.bound_[-1]:.6g}")
                state = self._online
                self._checkpoint(
                    it, it == n_iter - 1,
                    {"gamma": gamma, "M": state["M"], "topic_sum": state["topic_sum"]},
                    {"scale": state["scale"], "offset": state["offset"],
                     "rng": rng.bit_generator.state},
                )
        self._sync_components()

    def _fit_gibbs(self, counts: sp.csr_matrix, n_threads: int) -> None:
        k, v = self.n_components, self.n_features_in_
        alpha, eta = self.doc_topic_prior_, self.topic_word_prior_
        reps = counts.data.astype(np.int64)
        words = np.repeat(counts.indices.astype(np.int32), reps)
        lengths = np.asarray(counts.sum(axis=1)).ravel().astype(np.int64)
        doc_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        doc_of = np.repeat(np.arange(len(lengths)), lengths)
        n_shards = n_threads if n_threads > 1 else 1
        shards = shard_bounds(lengths.astype(np.float64) + 1, n_shards)
        n_shards = len(shards) - 1
        n_iter = self._n_iter()
        # average the topic-word counts over the last sweeps: a smoother point estimate
        n_average = max(1, min(20, n_iter // 5))
        first = 0
        restored = self._restore()
        if restored is None:
            rng = np.random.default_rng(self._seed + 2)
            z = rng.integers(0, k, size=len(words)).astype(np.int32)
            ndk = np.zeros((len(lengths), k), dtype=np.int32)
            np.add.at(ndk, (doc_of, z), 1)
            rng_state = rng.integers(1, 2**63 - 1, size=n_shards, dtype=np.int64).view(np.uint64)
            # start from the seeded topics (as VB does): two sweeps against them, held fixed
            self._init_lambda(counts)
            seeded = np.ascontiguousarray(self.components_.T)
            seeded_local = np.repeat(seeded[None], n_shards, axis=0)
            seeded_totals = np.repeat(seeded.sum(axis=0)[None], n_shards, axis=0)
            for _ in range(2):
                _kernels.gibbs_sweep(
                    words, doc_ptr, z, ndk, seeded_local, seeded_totals, alpha, 0.0, shards,
                    rng_state, True,
                )
            del seeded_local
            average = np.zeros((v, k))
        else:
            first, arrays, _ = restored
            first += 1
            alpha = self.doc_topic_prior_
            # only the token topics are stored: the counts are rebuilt from them, so they
            # cannot disagree with each other, and every topic id is checked first
            z = expect(arrays, "z", words.shape, np.int32)
            if z.size and (z.min() < 0 or z.max() >= k):
                raise io.ModelFileError(f"resume: checkpoint field 'z' has topics outside [0, {k})")
            rng_state = expect(arrays, "rng_state", (n_shards,), np.int64)
            rng_state = rng_state.view(np.uint64)
            average = expect(arrays, "average", (v, k), np.float64)
            ndk = np.zeros((len(lengths), k), dtype=np.int32)
            np.add.at(ndk, (doc_of, z), 1)
        nwk = np.zeros((v, k), dtype=np.int64)
        np.add.at(nwk, (words, z), 1)
        nwk = _allreduce(nwk)[0]
        nwk_local = np.empty((n_shards, v, k), dtype=np.int32)
        nk_local = np.empty((n_shards, k), dtype=np.int32)
        total_tokens = float(_allreduce(np.array([float(len(words))]))[0][0])
        with self._progress(n_iter, "Gibbs sweeps", first) as progress:
            for it in range(first, n_iter):
                started = time.perf_counter()
                nonzeros = _kernels.spread_counts(nwk, nwk_local, nk_local)
                with self._timed_step():
                    _kernels.gibbs_sweep(
                        words, doc_ptr, z, ndk, nwk_local, nk_local, alpha, eta, shards,
                        rng_state, False, _kernels.prefer_sparse(k, nonzeros),
                    )
                # AD-LDA merge: every shard changed only its own tokens' counts
                nwk += _allreduce(_kernels.shard_delta(nwk, nwk_local))[0].astype(np.int64)
                if self.optimize_priors and it >= n_iter // 4 and it % 5 == 0:
                    g = ndk[lengths > 0] + alpha
                    elog = digamma(g) - digamma(g.sum(axis=1, keepdims=True))
                    sums, count = _allreduce(elog.sum(axis=0), np.array([float(len(g))]))
                    alpha = _optimize_alpha(
                        alpha.copy(), sums / max(count[0], 1.0), self._symmetric_prior()
                    )
                    self.doc_topic_prior_ = alpha
                if it >= n_iter - n_average:
                    average += nwk
                self.n_iter_ = it + 1
                if self.verbose and (it + 1) % self.verbose == 0 or it == n_iter - 1:
                    ll = self._gibbs_loglik(nwk, ndk, alpha, eta) / total_tokens
                    self.bound_.append(ll)
                    if self.verbose:
                        self._say(
                            f"sweep {it + 1}: log-likelihood per token {ll:.4f} "
                            f"({time.perf_counter() - started:.2f} s)"
                        )
                progress.update(it + 1, f"log-likelihood {self.bound_[-1]:.4f}"
                                if self.bound_ else "")
                self._checkpoint(
                    it, it == n_iter - 1,
                    {"z": z, "rng_state": rng_state.view(np.int64), "average": average}, {},
                )
        self.components_ = np.ascontiguousarray((average / n_average).T) + eta

    def _gibbs_loglik(
        self, nwk: np.ndarray, ndk: np.ndarray, alpha: np.ndarray, eta: float
    ) -> float:
        """``log p(w | z)`` plus ``log p(z)`` of the collapsed model (Dirichlet-multinomials)."""
        v = nwk.shape[0]
        nk = nwk.sum(axis=0)
        word_part = np.sum(gammaln(nwk + eta)) - np.sum(gammaln(nk + v * eta))
        word_part += nwk.shape[1] * (gammaln(v * eta) - v * gammaln(eta))
        nd = ndk.sum(axis=1)
        doc_part = np.sum(gammaln(ndk + alpha)) - np.sum(gammaln(nd + alpha.sum()))
        doc_part += ndk.shape[0] * (gammaln(alpha.sum()) - np.sum(gammaln(alpha)))
        return float(_allreduce(np.array([doc_part]))[0][0] + word_part)

    # -- the contract ------------------------------------------------------------------
    @property
    def topic_word_(self) -> np.ndarray:
        """Topic-word distributions: rows of ``components_`` normalised, shape (K, V).

        Examples
        --------
        >>> import numpy as np
        >>> lda = LDA(2, max_iter=5, random_state=0).fit(np.ones((4, 3), dtype=int))
        >>> np.allclose(lda.topic_word_.sum(axis=1), 1.0)
        True
        """
        check_is_fitted(self, "components_")
        return self.components_ / self.components_.sum(axis=1, keepdims=True)

    def _gamma(self, counts: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        gamma = self._initial_gamma(counts)
        lam_t = np.ascontiguousarray(self.components_.T)
        with _threads(self.n_jobs) as n_threads:
            bounds, _ = self._estep(counts, gamma, _exp_elog_beta(lam_t), n_threads, False)
        return gamma, bounds

    def transform(self, X: Any) -> np.ndarray:
        """Topic proportions of each document; rows sum to 1.

        Unknown words are ignored and counted in ``n_unknown_tokens_``; an empty document
        gets the prior mean ``alpha / sum(alpha)``. Deterministic: no random restarts.

        Parameters
        ----------
        X : TextCorpus, list of str, sparse matrix or ndarray of shape (n_documents, V)
            Counts with the model's words as columns, a TextCorpus (words matched by name)
            or raw strings (when fitted on a TextCorpus).

        Returns
        -------
        ndarray of shape (n_documents, K)

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).poisson(1.0, (20, 10))
        >>> theta = LDA(2, max_iter=5, random_state=0).fit(X).transform(X[:3])
        >>> theta.shape, np.allclose(theta.sum(axis=1), 1.0)
        ((3, 2), True)
        """
        gamma, _ = self._gamma(self._new_counts(X))
        return gamma / gamma.sum(axis=1, keepdims=True)

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then return the topic proportions of ``X``.

        Parameters
        ----------
        X : TextCorpus, sparse matrix or ndarray of shape (n_documents, V)
            Training counts.
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_documents, K)

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).poisson(1.0, (20, 10))
        >>> LDA(2, max_iter=5, random_state=0).fit_transform(X).shape
        (20, 2)
        """
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Word distributions of topic mixtures: ``Z @ topic_word_``.

        Parameters
        ----------
        Z : array-like of shape (n, K) or (K,)
            Non-negative topic weights; each row is normalised to sum to 1 first.

        Returns
        -------
        ndarray of shape (n, V)

        Examples
        --------
        >>> import numpy as np
        >>> lda = LDA(2, max_iter=5, random_state=0).fit(np.ones((4, 3), dtype=int))
        >>> lda.inverse_transform([[1.0, 0.0]]).shape
        (1, 3)
        """
        check_is_fitted(self, "components_")
        if isinstance(Z, torch.Tensor):
            Z = Z.detach().cpu().numpy()
        Z = check_data(Z, "Z", min_ndim=1, dtype=np.float64, allow_empty=True)
        if Z.ndim == 1:
            Z = Z[None, :]
        if Z.ndim != 2 or Z.shape[1] != self.n_components:
            raise ValueError(
                f"Z must have shape (n, n_components={self.n_components}), got {Z.shape}"
            )
        if not np.isfinite(Z).all() or (Z < 0).any():
            raise ValueError("Z must hold finite, non-negative topic weights")
        sums = Z.sum(axis=1, keepdims=True)
        if (sums <= 0).any():
            raise ValueError("Z has a row of zeros; each row must have positive total weight")
        return (Z / sums) @ self.topic_word_

    def sample(
        self,
        n_samples: int = 1,
        *,
        doc_length: int | None = None,
        as_text: bool = False,
        random_state: Any = None,
    ) -> Any:
        """Generate documents from the model: ``theta ~ Dir(alpha)``, then words.

        Parameters
        ----------
        n_samples : int, default=1
            Number of documents.
        doc_length : int or None, default=None
            Tokens per document; ``None`` draws Poisson lengths with the training mean.
        as_text : bool, default=False
            Return strings of words (needs a vocabulary) instead of counts.
        random_state : int, numpy Generator or None, default=None
            Seed of the draws.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_samples, V), or list of str

        Examples
        --------
        >>> import numpy as np
        >>> lda = LDA(n_components=2, random_state=0).fit(np.ones((5, 4), dtype=int))
        >>> lda.sample(3, doc_length=7, random_state=0).sum(axis=1).A1.tolist()
        [7.0, 7.0, 7.0]
        """
        check_is_fitted(self, "components_")
        # each document is a dense row of counts, copied a few times on the way to sparse
        n_samples = check_affordable(
            n_samples, 8 * (3 * self.n_features_in_ + self.n_components + 1), "n_samples")
        if doc_length is not None:
            check_positive_int(doc_length, "doc_length", minimum=0)
        if as_text and self.vocabulary_ is None:
            raise ValueError("as_text=True needs a vocabulary; fit the model on a TextCorpus")
        rng = np.random.default_rng(check_random_state(random_state))
        theta = rng.dirichlet(self.doc_topic_prior_, size=n_samples)
        lengths = (
            np.full(n_samples, doc_length)
            if doc_length is not None
            else rng.poisson(self.mean_doc_length_, size=n_samples)
        )
        phi = self.topic_word_
        rows = []
        for d in range(n_samples):
            topic_counts = rng.multinomial(lengths[d], theta[d])
            row = np.zeros(self.n_features_in_, dtype=np.int64)
            for k in np.flatnonzero(topic_counts):
                row += rng.multinomial(topic_counts[k], phi[k])
            rows.append(row)
        counts = sp.csr_matrix(np.vstack(rows).astype(np.float64))
        if not as_text:
            return counts
        words = self.vocabulary_.words
        texts = []
        for d in range(n_samples):
            tokens = np.repeat(counts[d].indices, counts[d].data.astype(np.int64))
            texts.append(" ".join(words[i] for i in rng.permutation(tokens)))
        return texts

    def score_samples(self, X: Any) -> np.ndarray:
        """Per-document variational lower bound on ``log p(w_d | topics)`` (nats).

        ``sum_w n_dw log sum_k exp(E[log theta_dk] + E[log beta_kw]) + E[log p(theta_d |
        alpha) - log q(theta_d)]``: the document's part of the evidence lower bound, with the
        topics' own prior term left out (it is not a per-document quantity).

        Parameters
        ----------
        X : TextCorpus, list of str, sparse matrix or ndarray of shape (n_documents, V)
            Documents to score.

        Returns
        -------
        ndarray of shape (n_documents,)

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).poisson(1.0, (20, 10))
        >>> bool((LDA(2, max_iter=5, random_state=0).fit(X).score_samples(X) < 0).all())
        True
        """
        _, bounds = self._gamma(self._new_counts(X))
        return bounds

    def perplexity(self, X: Any) -> float:
        """``exp(-sum_d score_samples(X)_d / total tokens)``: bound-based perplexity.

        It scores documents whose proportions were fitted on all of their words, so it is
        optimistic for held-out evaluation; compare models (or libraries) with
        :func:`latentmodels.metrics.topics.document_completion_perplexity` instead.

        Parameters
        ----------
        X : TextCorpus, list of str, sparse matrix or ndarray of shape (n_documents, V)
            Documents with at least one token in all.

        Returns
        -------
        float

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).poisson(1.0, (20, 10))
        >>> LDA(2, max_iter=5, random_state=0).fit(X).perplexity(X) > 1.0
        True
        """
        counts = self._new_counts(X)
        total = counts.sum()
        if total <= 0:
            raise ValueError("X has no tokens; perplexity is undefined")
        _, bounds = self._gamma(counts)
        return float(np.exp(-bounds.sum() / total))

    # -- reading the topics ------------------------------------------------------------
    def top_words(self, n: int = 10) -> list[list[str]]:
        """The ``n`` most probable words of each topic (word ids as strings without a vocabulary).

        Parameters
        ----------
        n : int, default=10
            Words per topic.

        Returns
        -------
        list of list of str
            One list per topic, most probable word first.

        Examples
        --------
        >>> import numpy as np
        >>> lda = LDA(n_components=2, random_state=0).fit(np.eye(4, dtype=int))
        >>> [len(words) for words in lda.top_words(2)]
        [2, 2]
        """
        check_is_fitted(self, "components_")
        n = check_positive_int(n, "n")
        order = np.argsort(-self.components_, axis=1, kind="stable")[:, :n]
        if self.vocabulary_ is None:
            return [[str(i) for i in row] for row in order]
        return [[self.vocabulary_.words[i] for i in row] for row in order]

    def print_topics(self, n: int = 10, file: TextIO | None = None) -> str:
        """Print (and return) one line per topic: its share of the corpus and top words.

        Parameters
        ----------
        n : int, default=10
            Words per topic.
        file : text stream or None, default=None
            Where to print (standard output by default).

        Returns
        -------
        str
            The printed text.

        Examples
        --------
        >>> import io, numpy as np
        >>> lda = LDA(n_components=2, random_state=0).fit(np.eye(4, dtype=int))
        >>> lda.print_topics(2, file=io.StringIO()).count("topic")
        2
        """
        weight = self.components_.sum(axis=1) - self.topic_word_prior_ * self.n_features_in_
        share = weight / max(weight.sum(), 1e-300)
        lines = [
            f"topic {k:>3} ({100 * share[k]:4.1f}%): {' '.join(words)}"
            for k, words in enumerate(self.top_words(n))
        ]
        text = "\n".join(lines)
        print(text, file=file if file is not None else sys.stdout)
        return text

    # -- persistence -------------------------------------------------------------------
    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {
            "components": torch.from_numpy(np.ascontiguousarray(self.components_)),
            "doc_topic_prior": torch.from_numpy(np.ascontiguousarray(self.doc_topic_prior_)),
        }
        attributes = {
            "topic_word_prior": self.topic_word_prior_,
            "n_features_in": self.n_features_in_,
            "n_iter": self.n_iter_,
            "n_batch_iter": self.n_batch_iter_,
            "mean_doc_length": self.mean_doc_length_,
            "bound": list(self.bound_),
            "vocabulary": None if self.vocabulary_ is None else self.vocabulary_.to_dict(),
        }
        attributes["digest"] = _file.digest(tensors, attributes, self.get_params(deep=False))
        return tensors, attributes

    def _set_state(self, tensors: dict[str, torch.Tensor], attributes: dict[str, Any]) -> None:
        # nothing in the file is trusted: parameters and every recorded shape, count and
        # value are checked (lda/_file.py) before the model, or a kernel, sees them
        try:
            self._check_parameters()
        except (TypeError, ValueError) as exc:
            raise io.ModelFileError(f"LDA file field 'params': {exc}") from exc
        state = _file.checked_state(tensors, attributes, self.get_params(deep=False))
        for name, value in state.items():
            setattr(self, name, value)
        self._seed = check_random_state(self.random_state) if self.random_state is not None else 0

    @classmethod
    def load(cls, path: str | os.PathLike) -> LDA:
        """Load an LDA saved with :meth:`save`, checking every field of the file.

        Parameters
        ----------
        path : str or path
            The file.

        Returns
        -------
        LDA

        Raises
        ------
        ModelFileError
            (a ``ValueError``) naming the field when the file is truncated, corrupt, edited or
            inconsistent.

        Examples
        --------
        >>> import tempfile, os
        >>> import numpy as np
        >>> model = LDA(2, max_iter=5, random_state=0).fit(np.ones((4, 3), dtype=int))
        >>> path = model.save(os.path.join(tempfile.mkdtemp(), "lda.lm"))
        >>> LDA.load(path).components_.shape
        (2, 3)
        """
        try:
            return super().load(path)
        except (io.ModelFileError, FileNotFoundError):
            raise
        except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
            # what the shared loader lets through (unknown parameters, a header that is
            # not a JSON object): still a bad file, said as such
            raise io.ModelFileError(f"{path} is not a valid LDA file: {exc}") from exc
