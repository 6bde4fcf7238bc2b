"""Report sections for the latent-space tasks: nearest neighbours, anomaly scores, denoising
and a linear probe, computed on a run's held-out data.

Each builder follows :mod:`latentmodels.report.page`'s protocol (takes a ``ReportContext``, returns
a ``Section`` or ``None`` when it does not apply) and is bounded in size so a report stays
quick. Add them all with ``report.SECTIONS.extend(report_tasks.TASK_SECTIONS)``.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from ..context import (
    ReportContext,
    ReportFigure,
    Section,
    encodes,
    figure_html,
    flag_html,
    is_hmm,
    look_for_html,
)

__all__ = [
    "TASK_SECTIONS",
    "anomaly_section",
    "debias_section",
    "denoise_section",
    "neighbors_section",
    "probe_section",
]

# Bounds that keep each section to a few seconds on one CPU thread.
_MAX_SCORED = 1000
_MAX_CALIBRATION = 5000  # training samples the default anomaly detector is fitted on
_MAX_PROBED = 2000
_NEIGHBOR_QUERIES = 6
_NEIGHBORS = 8
_DENOISE_SHOWN = 10
_DENOISE_SETTINGS = (("gaussian", 0.3), ("salt_and_pepper", 0.2), ("masking", 0.5))


def _usable(ctx: ReportContext, *methods: str) -> bool:
    model = ctx.model
    if model is None or ctx.X is None or is_hmm(model) or ctx.conditional:
        return False
    if "transform" in methods and not encodes(model):
        return False
    return all(callable(getattr(model, m, None)) for m in methods)


def _rows_html(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def neighbors_section(ctx: ReportContext) -> Section | None:
    """Held-out queries and their nearest neighbours in latent space.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        One figure; None without a direct encoder, image data or enough held-out samples.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> neighbors_section(ctx).id
    'neighbors'
    """
    if not (_usable(ctx, "transform") and ctx.is_image_data):
        return None
    from ...tasks.maps import plot_neighbors

    X, _ = ctx.reference()
    if len(X) < _NEIGHBOR_QUERIES + _NEIGHBORS:
        return None
    fig = plot_neighbors(ctx.model, X[:_NEIGHBOR_QUERIES], X[_NEIGHBOR_QUERIES:], _NEIGHBORS)
    caption = (f"First column: a held-out sample; then its {_NEIGHBORS} nearest neighbours "
               f"(Euclidean distance between codes) among {len(X) - _NEIGHBOR_QUERIES:,} others.")
    figure = ReportFigure("neighbors.png", fig, caption)
    text = look_for_html(
        "each row's neighbours should resemble its first image (same class, similar style): "
        "that is what makes the codes useful for search and as features.")
    return Section("neighbors", "Nearest neighbours in latent space", text, figures=[figure])


def _training_data(ctx: ReportContext) -> np.ndarray | None:
    """A bounded part of the model's training data: given to ``write_report``, else read
    again from the training split ``run.json`` records; None when neither is there."""
    given = ctx.options.get("X_train")
    if given is not None:
        return np.asarray(given)[:_MAX_CALIBRATION]
    if not (ctx.run_info.get("data") or {}).get("source"):
        return None
    from ...rundir import load_run_data

    try:
        X, _ = load_run_data(ctx.run_info, part="train")
    except (OSError, ValueError, KeyError):  # the source moved or changed: no calibration
        return None
    return np.asarray(X)[:_MAX_CALIBRATION]


def anomaly_section(ctx: ReportContext) -> Section | None:
    """Distribution of the anomaly scores of held-out data, and its least and most typical
    samples.

    The scores are the default detector's (the score ``latentmodels anomaly`` uses by
    default), ``AnomalyDetector(model)`` fitted on up to 5,000 samples of the training data;
    where that detector does not apply (no training data, models it leaves to their own
    score) they are the model's ``score_samples``, and the section says which. Scores are
    per class when the data are labelled.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        Score figures; None for a model without ``score_samples``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> section = anomaly_section(ctx)
    >>> section.id, len(section.figures) >= 1
    ('anomaly', True)
    """
    if not _usable(ctx, "score_samples"):
        return None
    from ...tasks.anomaly import plot_anomalies, plot_score_histogram, ranking_scores

    X = ctx.X[:_MAX_SCORED]
    y = None if ctx.y is None else ctx.y[:_MAX_SCORED]
    train = _training_data(ctx)
    scores, source = ranking_scores(ctx.model, X, train)
    text = look_for_html(
        "the lowest-scoring samples should be the odd ones (badly written, cut off, "
        "unusual); if they look ordinary, the score is not telling typical from unusual.")
    if source.startswith("AnomalyDetector"):
        text += (f"<p>Scores (higher = more typical) are the {html.escape(source)}, "
                 f"calibrated on {len(train):,} training samples: the score "
                 "<code>latentmodels anomaly</code> uses by default.</p>")
    else:
        text += (f"<p>Scores (higher = more typical) are {html.escape(source)}: the ELBO for "
                 "VAEs, minus the reconstruction error for autoencoders, the model's "
                 "likelihood or bound otherwise.</p>")
    if y is not None:
        classes = np.unique(y)
        from ...metrics import auroc

        rows = []
        for cls in classes:
            truth = y == cls
            value = f"{auroc(truth, scores):.3f}" if 0 < truth.sum() < len(y) else "n/a"
            rows.append([cls, int(truth.sum()), f"{scores[truth].mean():.4g}", value])
        text += ("<p>Per class: mean score, and the AUROC of finding that class by low scores "
                 "among the others (0.5 = chance). A class well below the rest is one the "
                 "model finds unusual.</p>")
        text += _rows_html(["class", "samples", "mean score", "AUROC vs rest"], rows)
    figures = [ReportFigure("anomaly_scores.png", plot_score_histogram(scores),
                                    f"Scores of {len(X):,} held-out samples.")]
    if ctx.is_image_data:
        caption = "Top: the lowest-scoring held-out samples. Bottom: the highest-scoring."
        figures.append(
            ReportFigure("anomaly_extremes.png", plot_anomalies(X, scores), caption))
    return Section("anomaly", "Anomaly scores", text, figures)


def denoise_section(ctx: ReportContext) -> Section | None:
    """PSNR/SSIM of denoising held-out images through the model, three kinds of noise.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        A table and figures; None unless the model encodes and decodes images with pixels in [0, 1].

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> denoise_section(ctx).id
    'denoise'
    """
    if not (_usable(ctx, "transform", "inverse_transform") and ctx.is_image_data):
        return None
    if float(np.min(ctx.X)) < 0 or float(np.max(ctx.X)) > 1:
        return None  # the corruptions and metrics assume pixels in [0, 1]
    from ...deep.corruption import corrupt
    from ...metrics import psnr, ssim
    from ...tasks.denoise import denoise, plot_denoising

    X, _ = ctx.reference()
    rows = []
    figures = []
    worse: list[str] = []
    for kind, level in _DENOISE_SETTINGS:
        noisy = np.clip(corrupt(X, kind, level, random_state=0), 0.0, 1.0)
        cleaned = denoise(ctx.model, noisy, clip=(0.0, 1.0))
        row = [kind, level, f"{psnr(X, noisy):.2f}", f"{psnr(X, cleaned):.2f}"]
        try:
            ssim_noisy, ssim_cleaned = ssim(X, noisy), ssim(X, cleaned)
            row += [f"{ssim_noisy:.3f}", f"{ssim_cleaned:.3f}"]
            if ssim_cleaned < ssim_noisy:
                worse.append(kind.replace("_", "-"))
        except ValueError:
            row += ["n/a", "n/a"]
        rows.append(row)
        figures.append(ReportFigure(
            f"denoise_{kind}.png",
            plot_denoising(X, noisy, cleaned, n=_DENOISE_SHOWN),
            f"{kind.replace('_', '-')} noise, level {level}: clean, noisy, decoded."))
    text = look_for_html(
        "the denoised PSNR and SSIM should be higher than the noisy ones, and the bottom row "
        "of each picture should look like the top row, not like the middle one.")
    if not _trained_to_denoise(ctx.model):
        text += flag_html(
            f"this {type(ctx.model).__name__} was not trained to denoise: it only learned to "
            "reconstruct clean data, so these figures show how it copes with noise it never "
            "saw. Train a DenoisingAutoencoder (latentmodels train dae) for a real denoiser.")
    if worse:
        text += flag_html(
            "denoising made SSIM worse than the noisy input for " + ", ".join(worse)
            + " noise: for this model, keeping the noisy image is the better choice there.")
    text += (f"<p>{len(X):,} held-out images corrupted, then encoded and decoded. PSNR in dB, "
             "SSIM in [0, 1]; higher is better.</p>")
    text += _rows_html(["noise", "level", "PSNR noisy", "PSNR denoised", "SSIM noisy",
                        "SSIM denoised"], rows)
    return Section("denoise", "Denoising", text, figures)


def _trained_to_denoise(model: Any) -> bool:
    """True for models trained on corrupted inputs (they declare a ``corruption``)."""
    return getattr(model, "corruption", None) is not None


def probe_section(ctx: ReportContext) -> Section | None:
    """Logistic regression on the codes vs PCA vs raw inputs, with 100 and all labels.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        A table of probe accuracies; None without labels or with too few samples per class.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> probe_section(ctx).id
    'probe'
    """
    if not _usable(ctx, "transform") or ctx.y is None:
        return None
    from ...tasks.features import format_probe_table, linear_probe

    X, y = ctx.X[:_MAX_PROBED], ctx.y[:_MAX_PROBED]
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2 or counts.min() < 2 or len(y) < 5 * len(classes):
        return None
    n_labels = (100, None) if len(y) * 0.8 > 200 else (None,)
    result = linear_probe(ctx.model, X, y, n_labels=n_labels, random_state=0)
    rows = []
    table = format_probe_table(result).splitlines()
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    for line in table[2:]:
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    text = look_for_html(
        "the codes row should beat PCA with as many components, especially with few labels; "
        "if the raw inputs win by far, the codes have dropped information the labels need.")
    text += (f"<p>Test accuracy of a logistic regression trained on the codes of "
            f"{result['n_train']:,} held-out samples (or a subset of their labels), against "
            f"PCA with as many components and the raw inputs; tested on {result['n_test']:,} "
            f"others. Chance: {100 * result['chance']:.1f} %.</p>")
    return Section("probe", "Latent codes as features", text + _rows_html(header, rows))


def debias_section(ctx: ReportContext) -> Section | None:
    """A ``debias`` run's results.

    Accuracy per sub-group of the plain classifier and the DB-VAE, and the training images
    the DB-VAE up-weights most and least.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        The section; None when ``run.json`` records no ``debias`` result.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import VAE, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, y = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), vae, X[64:128], y[64:128], {}, {})
    >>> debias_section(ctx) is None  # not a debias run
    True
    """
    result = ctx.run_info.get("debias")
    if not result:
        return None
    common, rare = result["groups"]
    header = ["model", "accuracy", f"recall {common}", f"recall {rare}", "gap"]
    rows = [[name, f"{result[key]['overall']:.4f}", f"{result[key][common]:.3f}",
             f"{result[key][rare]:.3f}", f"{result[key]['gap']:.3f}"]
            for key, name in (("plain", "plain classifier"), ("debiased", "DB-VAE"))]
    positive = result["positive"]
    text = (f"<p>Task: is this a {html.escape(str(positive))}? Sub-groups by the "
            f"<code>{html.escape(result['rule'])}</code> rule (the rare group is the half of "
            f"the class above its median); training kept {100 * result['keep_fraction']:.0f} % "
            f"of the {html.escape(rare)} ones ({result['n_train']:,} training, "
            f"{result['n_test']:,} untouched test images). Recall is measured on the test "
            f"{html.escape(str(positive))}s of each group.</p>")
    text += _rows_html(header, rows)
    text += (f"<p>Mean sampling weight of {html.escape(rare)} vs {html.escape(common)} "
             f"training {html.escape(str(positive))}s: {result['weight_ratio_rare']:.2f}x; "
             f"{html.escape(rare)} share among the 32 most up-weighted "
             f"{100 * result['rare_share_top32']:.0f} % (of all: "
             f"{100 * result['rare_share_train']:.0f} %).</p>")
    for name, caption in (("debias_most.png", "The 32 most up-weighted training images."),
                          ("debias_least.png", "The 32 least up-weighted training images.")):
        path = ctx.run_dir / name
        if path.is_file():  # drawn by the debias command; embedded so the page stands alone
            text += figure_html(name, path.read_bytes(), caption)
    return Section("debias", "Debiasing", text)


#: The task sections, in the order they read best after the built-in ones.
TASK_SECTIONS = [neighbors_section, anomaly_section, denoise_section, probe_section,
                 debias_section]
