"""Gaussian building blocks shared by GaussianHMM and GMMHMM.

Densities are evaluated for all components at once with a few BLAS calls; sufficient
statistics are accumulated on data centred at a reference point (the mean of the current
means), so that E[x^2] - E[x]^2 does not cancel catastrophically on data far from zero.

Covariances are kept in a compact form per covariance type, for ``C`` components:
``spherical`` (C,), ``diag`` (C, D), ``full`` (C, D, D), ``tied`` (G, D, D) where the
components come in ``G`` groups of equal size that share one matrix.
"""

from __future__ import annotations

import numba
import numpy as np

from . import _kernels

COVARIANCE_TYPES = ("spherical", "diag", "full", "tied")
_LOG_2PI = np.log(2.0 * np.pi)


def full_covariances(covars: np.ndarray, covariance_type: str, n_components: int, n_features: int):
    """Expand compact covariances to (n_components, D, D) matrices."""
    if covariance_type == "full":
        return np.array(covars, dtype=np.float64)
    if covariance_type == "diag":
        return np.stack([np.diag(c) for c in covars])
    if covariance_type == "spherical":
        return np.stack([np.eye(n_features) * c for c in covars])
    covars = np.asarray(covars, dtype=np.float64)
    group = n_components // covars.shape[0]
    return np.repeat(covars, group, axis=0)


def _precision_cholesky(covars: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Inverse Cholesky factors P (Sigma^-1 = P^T P) and log-determinants of Sigma."""
    try:
        chol = np.linalg.cholesky(covars)
    except np.linalg.LinAlgError as exc:
        raise ValueError(f"{name} must be symmetric positive definite") from exc
    eye = np.broadcast_to(np.eye(covars.shape[-1]), covars.shape)
    prec = np.linalg.solve(chol, eye)
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
    return prec, logdet


def log_density(
    X: np.ndarray, means: np.ndarray, covars: np.ndarray, covariance_type: str,
    name: str = "covars_",
) -> np.ndarray:
    """log N(x_t | mean_c, cov_c) for every row and component: shape (n_samples, C)."""
    C, D = means.shape
    X = np.ascontiguousarray(X, dtype=np.float64)
    means = np.ascontiguousarray(means, dtype=np.float64)
    out = np.empty((len(X), C))
    if covariance_type in ("diag", "spherical"):
        var = np.broadcast_to(
            covars[:, None] if covariance_type == "spherical" else covars, (C, D)
        )
        if np.any(var <= 0):
            raise ValueError(f"{name} must be positive")
        log_norm = -0.5 * (D * _LOG_2PI + np.log(var).sum(axis=1))
        kernel = _kernels.choose(_kernels.diag_log_density, X.size * len(means))
        kernel(X, means, np.ascontiguousarray(1.0 / var), log_norm, out)
        return out
    prec, logdet = _precision_cholesky(covars, name)
    if covariance_type == "tied":
        group = C // covars.shape[0]
        prec = np.repeat(prec, group, axis=0)
        logdet = np.repeat(logdet, group)
    log_norm = -0.5 * (D * _LOG_2PI + logdet)
    kernel = _kernels.choose(_kernels.full_log_density, X.size * X.shape[1] * len(means))
    kernel(X, means, np.ascontiguousarray(prec), log_norm, out)
    return out


# Above this bound on |second-order coefficient| * |x - r0|^2 the expanded quadratic form
# could lose more than ~1e-8 nats per frame to cancellation: use the direct kernels then.
_EXPANSION_LIMIT = 1e8


class Design:
    """Per-row features [1, y, second-order terms of y] with y = x - r0 (r0 = data mean).

    Log-densities of all components are then one matrix product ``V @ coef`` and the
    sufficient statistics another, ``weights.T @ V``; in EM the features are computed once
    per fit and reused by every iteration.
    """

    def __init__(self, X: np.ndarray, covariance_type: str) -> None:
        N, D = X.shape
        self.X = X
        self.n_features = D
        self.full = covariance_type in ("full", "tied")
        self.r0 = X.mean(axis=0)
        self.tril = np.tril_indices(D)
        n_second = len(self.tril[0]) if self.full else D
        P = 1 + D + n_second
        V = np.empty((P, N)).T  # column-major: each feature column is contiguous
        Y = X - self.r0
        V[:, 0] = 1.0
        V[:, 1 : 1 + D] = Y
        if self.full:
            for k, (i, j) in enumerate(zip(*self.tril, strict=True)):
                np.multiply(Y[:, i], Y[:, j], out=V[:, 1 + D + k])
        else:
            np.multiply(Y, Y, out=V[:, 1 + D :])
        self.V = V
        self.max_sq = float(np.max(np.einsum("nd,nd->n", Y, Y))) if N else 0.0

    def log_density(self, means, covars, covariance_type) -> np.ndarray | None:
        """All component log-densities, or None when the expansion would be inaccurate."""
        C, D = means.shape
        M = means - self.r0
        if covariance_type in ("diag", "spherical"):
            var = np.broadcast_to(
                covars[:, None] if covariance_type == "spherical" else covars, (C, D)
            )
            if np.any(var <= 0):
                raise ValueError("covars_ must be positive")
            prec = 1.0 / var
            if prec.max() * self.max_sq > _EXPANSION_LIMIT or self.full:
                return None
            log_norm = -0.5 * (D * _LOG_2PI + np.log(var).sum(axis=1))
            coef = np.empty((1 + 2 * D, C))
            coef[0] = log_norm - 0.5 * (prec * M * M).sum(axis=1)
            coef[1 : 1 + D] = (prec * M).T
            coef[1 + D :] = -0.5 * prec.T
            return self.V @ coef
        if not self.full:
            return None
        prec_chol, logdet = _precision_cholesky(covars, "covars_")
        if covariance_type == "tied":
            group = C // covars.shape[0]
            prec_chol = np.repeat(prec_chol, group, axis=0)
            logdet = np.repeat(logdet, group)
        lam = np.einsum("cki,ckj->cij", prec_chol, prec_chol)
        if np.abs(lam).max() * self.max_sq > _EXPANSION_LIMIT:
            return None
        lam_m = np.einsum("cij,cj->ci", lam, M)
        i, j = self.tril
        coef = np.empty((1 + D + len(i), C))
        coef[0] = -0.5 * (D * _LOG_2PI + logdet) - 0.5 * np.einsum("ci,ci->c", lam_m, M)
        coef[1 : 1 + D] = lam_m.T
        coef[1 + D :] = (np.where(i == j, -0.5, -1.0) * lam[:, i, j]).T
        return self.V @ coef

    def accumulate(self, stats, weights, ref, need_second: bool) -> None:
        """Add moments about ``ref`` (shared by all batches and processes) to ``stats``."""
        D = self.n_features
        V = self.V if need_second else self.V[:, : 1 + D]
        raw = (V.T @ weights).T  # V.T is C-ordered: a plain GEMM, ~20 % faster than w.T @ V
        N = raw[:, 0]
        s1 = raw[:, 1 : 1 + D]
        d = self.r0 - ref
        stats["post"] += N
        stats["obs"] += s1 + N[:, None] * d
        if not need_second:
            return
        if self.full:
            C = len(N)
            S = np.empty((C, D, D))
            i, j = self.tril
            S[:, i, j] = raw[:, 1 + D :]
            S[:, j, i] = raw[:, 1 + D :]
            cross = s1[:, :, None] * d[None, None, :]
            S += cross + np.swapaxes(cross, 1, 2) + N[:, None, None] * np.outer(d, d)
            stats["outer"] += S
        else:
            stats["obs2"] += raw[:, 1 + D :] + 2.0 * d * s1 + N[:, None] * d * d


def new_stats(C: int, D: int, covariance_type: str) -> dict[str, np.ndarray]:
    stats = {"post": np.zeros(C), "obs": np.zeros((C, D))}
    if covariance_type in ("diag", "spherical"):
        stats["obs2"] = np.zeros((C, D))
    else:
        stats["outer"] = np.zeros((C, D, D))
    return stats


def accumulate(
    stats: dict[str, np.ndarray], X: np.ndarray, weights: np.ndarray, ref: np.ndarray,
    covariance_type: str, need_second: bool,
) -> None:
    """Add weighted counts, first and second moments of ``X - ref`` per component."""
    mode = 0 if not need_second else (1 if covariance_type in ("diag", "spherical") else 2)
    n_chunks = max(1, min(len(X) // 256, 4 * numba.get_num_threads()))
    work = X.size * X.shape[1] * weights.shape[1]
    post, first, second = _kernels.choose(_kernels.weighted_moments, work)(
        np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(weights),
        np.ascontiguousarray(ref, dtype=np.float64), mode, n_chunks,
    )
    stats["post"] += post
    stats["obs"] += first
    if mode == 1:
        stats["obs2"] += second[..., 0]
    elif mode == 2:
        stats["outer"] += second


def _clip_eigenvalues(mats: np.ndarray, floor: float) -> np.ndarray:
    """Symmetrise and raise eigenvalues below ``floor`` (the closest PD matrices)."""
    mats = 0.5 * (mats + np.swapaxes(mats, -1, -2))
    values, vectors = np.linalg.eigh(mats)
    if np.all(values >= floor):
        return mats
    values = np.maximum(values, floor)
    return np.einsum("...ij,...j,...kj->...ik", vectors, values, vectors)


def prior_matrix(covars_prior, covariance_type: str, C: int, G: int, D: int) -> np.ndarray:
    """``covars_prior`` as the array the M-step adds: a scalar means that value times I
    for full/tied covariances."""
    cp = np.asarray(covars_prior, dtype=np.float64)
    if covariance_type in ("diag", "spherical"):
        return np.broadcast_to(cp, (C, D))
    shape = (C, D, D) if covariance_type == "full" else (G, D, D)
    if cp.ndim == 0:
        return np.broadcast_to(cp * np.eye(D), shape)
    return np.broadcast_to(cp, shape)


def m_step(
    stats: dict[str, np.ndarray], means: np.ndarray, covars: np.ndarray, covariance_type: str,
    *, update_means: bool, update_covars: bool, means_prior, means_weight, covars_prior,
    covars_weight, min_covar: float, min_count: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """MAP update of means and covariances from centred sufficient statistics.

    Components with less than ``min_count`` expected observations keep their parameters
    (no 0/0, no NaN). Covariances are floored at ``min_covar`` (eigenvalues for full/tied),
    which is the constrained maximiser, so EM stays monotone.
    """
    C, D = means.shape
    ref = means.mean(axis=0)
    N = stats["post"]
    active = N >= min_count
    mw = np.broadcast_to(np.asarray(means_weight, dtype=np.float64), (C,))
    mp = np.broadcast_to(np.asarray(means_prior, dtype=np.float64), (C, D)) - ref
    old_c = means - ref
    new_c = old_c.copy()
    if update_means:
        den = mw + N
        ok = active & (den > 0)
        new_c[ok] = (mw[ok, None] * mp[ok] + stats["obs"][ok]) / den[ok, None]
    new_covars = np.array(covars, dtype=np.float64, copy=True)
    if update_covars:
        obs = stats["obs"]
        diff = new_c - mp
        cw = np.asarray(covars_weight, dtype=np.float64)
        if covariance_type in ("diag", "spherical"):
            scatter = stats["obs2"] - 2.0 * new_c * obs + new_c**2 * N[:, None]
            scatter = np.maximum(scatter, 0.0)
            cp = prior_matrix(covars_prior, covariance_type, C, 1, D)
            num = mw[:, None] * diff**2 + scatter + cp
            den = np.maximum(cw - 1.0, 0.0) + N[:, None]  # numpy broadcasting, as hmmlearn
            ok = active & np.all(den > 0, axis=1)
            est = num[ok] / den[ok]
            if covariance_type == "spherical":
                new_covars[ok] = np.maximum(est.mean(axis=1), min_covar)
            else:
                new_covars[ok] = np.maximum(est, min_covar)
        else:
            cross = obs[:, :, None] * new_c[:, None, :]
            scatter = (
                stats["outer"] - cross - np.swapaxes(cross, 1, 2)
                + N[:, None, None] * new_c[:, :, None] * new_c[:, None, :]
            )
            scatter += mw[:, None, None] * diff[:, :, None] * diff[:, None, :]
            if covariance_type == "full":
                cp = prior_matrix(covars_prior, "full", C, C, D)
                den = np.maximum(np.broadcast_to(cw, (C,)) - D, 0.0) + N
                ok = active & (den > 0)
                if np.any(ok):
                    est = (cp[ok] + scatter[ok]) / den[ok, None, None]
                    new_covars[ok] = _clip_eigenvalues(est, min_covar)
            else:
                G = new_covars.shape[0]
                group = C // G
                cp = prior_matrix(covars_prior, "tied", C, G, D)
                pooled = scatter.reshape(G, group, D, D).sum(axis=1)
                den = np.maximum(np.broadcast_to(cw, (G,)) - D, 0.0) + N.reshape(G, group).sum(1)
                ok = den >= min_count
                if np.any(ok):
                    est = (cp[ok] + pooled[ok]) / den[ok, None, None]
                    new_covars[ok] = _clip_eigenvalues(est, min_covar)
    return new_c + ref, new_covars


def log_prior(
    means: np.ndarray, covars: np.ndarray, covariance_type: str, *, means_prior, means_weight,
    covars_prior, covars_weight, include_means: bool, include_covars: bool,
) -> float:
    """Log prior density (up to a constant) that :func:`m_step` maximises with the data."""
    C, D = means.shape
    mw = np.broadcast_to(np.asarray(means_weight, dtype=np.float64), (C,))
    diff = means - np.broadcast_to(np.asarray(means_prior, dtype=np.float64), (C, D))
    cw = np.asarray(covars_weight, dtype=np.float64)
    if not include_covars:
        covars_prior, cw = 0.0, np.zeros(())
    if not include_means:
        mw = np.zeros(C)
    if covariance_type in ("diag", "spherical"):
        var = np.broadcast_to(covars[:, None] if covariance_type == "spherical" else covars,
                              (C, D))
        cp = prior_matrix(covars_prior, covariance_type, C, 1, D)
        shape = np.broadcast_to(np.maximum(cw - 1.0, 0.0), (C, D))
        return float(np.sum(-(mw[:, None] * diff**2 + cp) / (2 * var) - 0.5 * shape * np.log(var)))
    G = C if covariance_type == "full" else covars.shape[0]
    group = C // G
    prec, logdet = _precision_cholesky(covars, "covars_")
    inv = np.einsum("gki,gkj->gij", prec, prec)
    cp = prior_matrix(covars_prior, covariance_type, C, G, D)
    scat = mw[:, None, None] * diff[:, :, None] * diff[:, None, :]
    scat = scat.reshape(G, group, D, D).sum(axis=1) + cp
    shape = np.maximum(np.broadcast_to(cw, (G,)) - D, 0.0)
    return float(np.sum(-0.5 * np.einsum("gij,gji->g", scat, inv) - 0.5 * shape * logdet))


def init_from_labels(
    X: np.ndarray, labels: np.ndarray, means: np.ndarray, covariance_type: str, min_covar: float,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Per-component covariances from hard labels, shrunk toward the pooled covariance so
    that small clusters still give well-conditioned matrices."""
    C, D = means.shape
    glob = np.atleast_2d(np.cov(X.T, bias=True)) if len(X) > 1 else np.eye(D)
    glob = glob + min_covar * np.eye(D)
    shrink = D + 2.0
    covs = np.empty((C, D, D))
    for c in range(C):
        members = X[labels == c] - means[c]
        n = len(members)
        scatter = members.T @ members if n else np.zeros((D, D))
        covs[c] = (scatter + shrink * glob) / (n + shrink) + min_covar * np.eye(D)
    if covariance_type == "full":
        return covs
    if covariance_type == "diag":
        return np.diagonal(covs, axis1=1, axis2=2).copy()
    if covariance_type == "spherical":
        return np.diagonal(covs, axis1=1, axis2=2).mean(axis=1)
    if groups is None:
        counts = np.bincount(labels, minlength=C).astype(float)
        pooled = np.einsum("c,cij->ij", counts + 1.0, covs) / (counts + 1.0).sum()
        return pooled[None]
    G = int(groups.max()) + 1
    counts = np.bincount(labels, minlength=C).astype(float) + 1.0
    out = np.zeros((G, D, D))
    for g in range(G):
        sel = groups == g
        out[g] = np.einsum("c,cij->ij", counts[sel], covs[sel]) / counts[sel].sum()
    return out
