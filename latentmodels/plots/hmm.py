"""Pictures of a fitted HMM: the series coloured by decoded state, the transition matrix,
and the per-state emission densities. Each function draws on a matplotlib Axes (creating
a figure when none is given) and returns the Figure, so reports can save it."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_states", "plot_transmat", "plot_emission_densities", "plot_state_scatter"]


def _axes(ax: Any, figsize: tuple[float, float]):
    """The given axes, or a new figure built without pyplot (nothing joins a global list)."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots()


def _colour(k: int) -> str:
    """One colour per state, the same in every plot."""
    return f"C{int(k) % 10}"


def plot_states(
    series: Any, states: Any, *, ax: Any = None, feature: int = 0, title: str | None = None,
    x: Any = None,
):
    """Plot one feature of ``series`` against time, each point coloured by its state.

    Parameters
    ----------
    series : array-like of shape (n_steps,) or (n_steps, n_features)
        The observations.
    states : array-like of shape (n_steps,)
        The state of each step (e.g. from ``model.predict``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure by default.
    feature : int, default=0
        The column of ``series`` drawn.
    title : str, optional
        The axes' title.
    x : array-like, optional
        Positions on the time axis; the step numbers by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (``ax.figure`` when ``ax`` is given).

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.plots.hmm import plot_states
    >>> fig = plot_states(np.sin(np.arange(50) / 5)[:, None], np.arange(50) // 25)
    """
    values = np.asarray(series, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    states = np.asarray(states)
    if states.shape != (len(values),):
        raise ValueError(f"states must have shape ({len(values)},), got {states.shape}")
    if not 0 <= feature < values.shape[1]:
        raise ValueError(f"feature must be in [0, {values.shape[1] - 1}], got {feature}")
    t = np.arange(len(values)) if x is None else np.asarray(x)
    fig, ax = _axes(ax, (10, 3))
    ax.plot(t, values[:, feature], color="0.75", linewidth=0.8, zorder=1)
    for k in np.unique(states):
        sel = states == k
        ax.scatter(t[sel], values[sel, feature], s=6, label=f"state {k}", zorder=2,
                   color=_colour(k))
    ax.set_xlabel("time")
    ax.set_ylabel(f"feature {feature}")
    ax.legend(loc="best", fontsize="small", markerscale=2)
    if title:
        ax.set_title(title)
    return fig


def plot_transmat(model: Any, *, ax: Any = None, title: str = "transition matrix"):
    """Heat map of ``model.transmat_`` with the probabilities written in the cells.

    Parameters
    ----------
    model : HMM
        A fitted hidden Markov model (``transmat_``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure by default.
    title : str, default="transition matrix"
        The axes' title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (``ax.figure`` when ``ax`` is given).

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import CategoricalHMM
    >>> from latentmodels.plots.hmm import plot_transmat
    >>> hmm = CategoricalHMM(2)
    >>> hmm.transmat_ = np.array([[0.9, 0.1], [0.3, 0.7]])
    >>> fig = plot_transmat(hmm)
    """
    trans = np.asarray(model.transmat_)
    K = len(trans)
    fig, ax = _axes(ax, (1.0 + 0.6 * K, 0.8 + 0.6 * K))
    image = ax.imshow(trans, vmin=0.0, vmax=1.0, cmap="viridis")
    if K <= 12:
        for i in range(K):
            for j in range(K):
                ax.text(j, i, f"{trans[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if trans[i, j] < 0.5 else "black")
    ax.set_xlabel("to state")
    ax.set_ylabel("from state")
    ax.set_xticks(range(K))
    ax.set_yticks(range(K))
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046)
    return fig


def plot_emission_densities(
    model: Any, *, feature: int = 0, ax: Any = None, grid: Any = None,
):
    """Per-state emission density of one feature.

    Densities for Gaussian, GMM and Poisson emissions; probabilities for categorical ones.

    Parameters
    ----------
    model : HMM
        A fitted hidden Markov model.
    feature : int, default=0
        The feature whose densities are drawn.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure by default.
    grid : array-like, optional
        Points where Gaussian densities are evaluated; by default 400 points over the
        states' means +- 4 standard deviations.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (``ax.figure`` when ``ax`` is given).

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.hmm import GaussianHMM
    >>> from latentmodels.plots.hmm import plot_emission_densities
    >>> hmm = GaussianHMM(2)
    >>> hmm.means_ = np.array([[0.0], [3.0]]); hmm.covars_ = np.array([[1.0], [0.5]])
    >>> fig = plot_emission_densities(hmm)
    """
    from scipy import stats

    fig, ax = _axes(ax, (6, 3.5))
    K = model.n_components
    if hasattr(model, "emissionprob_"):
        probs = np.asarray(model.emissionprob_)
        width = 0.8 / K
        for k in range(K):
            ax.bar(np.arange(probs.shape[1]) + k * width, probs[k], width, label=f"state {k}",
                   color=_colour(k))
        ax.set_xlabel("symbol")
        ax.set_ylabel("probability")
    elif hasattr(model, "lambdas_"):
        lam = np.asarray(model.lambdas_)[:, feature]
        counts = np.arange(int(lam.max() * 2 + 10))
        for k in range(K):
            ax.plot(counts, stats.poisson(lam[k]).pmf(counts), marker=".", label=f"state {k}",
                    color=_colour(k))
        ax.set_xlabel(f"count (feature {feature})")
        ax.set_ylabel("probability")
    elif not hasattr(model, "means_"):  # another emission type: its density, or its means
        from ..hmm.emissions import emission_of

        emission = emission_of(model)
        centres = np.asarray(emission.means(), dtype=np.float64)[:, feature]
        if grid is None:
            span = float(np.abs(centres).max()) or 1.0
            grid = np.linspace(min(0.0, centres.min() - span), centres.max() + span, 400)
        try:
            density = np.asarray(emission.marginal_density(np.asarray(grid), feature))
        except NotImplementedError:
            for k in range(K):
                ax.axvline(centres[k], label=f"state {k}", color=_colour(k))
            ax.set_ylabel("state mean (no density for this emission)")
        else:
            for k in range(K):
                ax.plot(grid, density[:, k], label=f"state {k}", color=_colour(k))
            ax.set_ylabel("density")
        ax.set_xlabel(f"feature {feature}")
    else:
        means = np.asarray(model.means_)
        covs = np.asarray(model.covars_)
        if means.ndim == 2:  # GaussianHMM: one component per state
            means, weights = means[:, None, :], np.ones((K, 1))
            var = covs[:, None, feature, feature]
        else:  # GMMHMM
            weights = np.asarray(model.weights_)
            full = {"spherical": lambda c: c, "diag": lambda c: c[..., feature],
                    "full": lambda c: c[..., feature, feature],
                    "tied": lambda c: np.repeat(c[:, None, feature, feature],
                                                means.shape[1], axis=1)}
            var = full[model.covariance_type](covs)
        sd = np.sqrt(var)
        if grid is None:
            lo = (means[..., feature] - 4 * sd).min()
            hi = (means[..., feature] + 4 * sd).max()
            grid = np.linspace(lo, hi, 400)
        for k in range(K):
            dens = sum(
                weights[k, m] * stats.norm(means[k, m, feature], sd[k, m]).pdf(grid)
                for m in range(means.shape[1])
            )
            ax.plot(grid, dens, label=f"state {k}", color=_colour(k))
        ax.set_xlabel(f"feature {feature}")
        ax.set_ylabel("density")
    ax.legend(fontsize="small")
    ax.set_title("emission distributions")
    return fig


def plot_state_scatter(
    X: Any, states: Any, *, features: tuple[int, int] = (0, 1), names: Any = None,
    ax: Any = None,
):
    """Scatter two features of ``X`` against each other, each point coloured by its state.

    Parameters
    ----------
    X : array-like of shape (n_steps, n_features)
        The observations, at least two features.
    states : array-like of shape (n_steps,)
        The state of each step.
    features : tuple of int, default=(0, 1)
        The two columns drawn.
    names : sequence of str, optional
        Axis labels (one name per feature of ``X``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (``ax.figure`` when ``ax`` is given).

    Examples
    --------
    >>> import numpy as np
    >>> from latentmodels.plots.hmm import plot_state_scatter
    >>> X = np.random.default_rng(0).normal(size=(40, 2))
    >>> fig = plot_state_scatter(X, (X[:, 0] > 0).astype(int), names=["a", "b"])
    """
    values = np.asarray(X, dtype=np.float64)
    states = np.asarray(states)
    if values.ndim != 2 or states.shape != (len(values),):
        raise ValueError(f"X must be 2-D and states of shape ({len(values)},), got "
                         f"{values.shape} and {states.shape}")
    i, j = features
    if not (0 <= i < values.shape[1] and 0 <= j < values.shape[1]):
        raise ValueError(f"features must index the {values.shape[1]} columns of X, got {features}")
    fig, ax = _axes(ax, (5, 4))
    for k in np.unique(states):
        sel = states == k
        ax.scatter(values[sel, i], values[sel, j], s=10, alpha=0.8, label=f"state {k}",
                   color=_colour(k), linewidths=0)
    names = list(names) if names is not None else [f"feature {i}", f"feature {j}"]
    ax.set_xlabel(names[i] if len(names) > max(i, j) else names[0])
    ax.set_ylabel(names[j] if len(names) > max(i, j) else names[1])
    ax.legend(fontsize="small", markerscale=1.5)
    return fig
