"""The GAN part of the HTML report: both players' losses, samples of fixed codes over
training, walks between random codes, and sample quality in the judge classifier's feature
space (Frechet distance, precision, recall, classes covered)."""

from __future__ import annotations

import html
from typing import Any

from ...plots import gan as plots_gan
from ..context import ReportContext, ReportFigure, Section, html_table

__all__ = ["GAN_SECTIONS", "gan_section", "is_gan"]


def is_gan(model: Any) -> bool:
    """True for a fitted GAN (a model whose history records both players' losses).

    Parameters
    ----------
    model : object or None
        The model.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_gan(None)
    False
    """
    history = getattr(model, "history_", None)
    return bool(history) and "d_loss" in history[0] and "g_loss" in history[0]


def _quality_html(quality: dict[str, Any]) -> str:
    rows = {
        "Frechet distance (judge features, lower is better)": quality["frechet"],
        "precision (k-NN, higher is better)": quality["precision"],
        "recall (k-NN, higher is better)": quality["recall"],
        "classes covered": f"{quality['classes_covered']} of {quality['n_classes']}",
        "KL(class histogram || uniform), nats": quality["kl_uniform"],
        "samples / real images": f"{quality['n_samples']:,} / {quality['n_real']:,}",
    }
    shares = ", ".join(f"{k}: {100 * v:.1f} %" for k, v in enumerate(quality["histogram"]))
    return (html_table(rows, ("sample quality", "value"))
            + f"<p class='note'>Class shares of the samples: {html.escape(shares)}. Figures "
              "are measured in the feature space of the library's small judge classifier "
              "trained on the training images: not Inception FID, comparable only between "
              "runs with the same judge, real set and sample count.</p>")


def gan_section(ctx: ReportContext) -> Section | None:
    """Training of a GAN: losses of both players, fixed-code samples over training, latent walks.

    The sample-quality figures recorded in ``run.json`` (``sample_quality``) are shown too.

    Parameters
    ----------
    ctx : ReportContext
        The model, held-out data and run record.

    Returns
    -------
    Section or None
        The losses, progress and walk figures; None unless the model is a fitted GAN.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from latentmodels import GAN, datasets
    >>> from latentmodels.report.context import ReportContext
    >>> X, _ = datasets.load_mnist()
    >>> gan = GAN(latent_dim=4, architecture="mlp", hidden_dims=(32,), epochs=1, verbose=0,
    ...           random_state=0).fit(X[:64])
    >>> ctx = ReportContext(Path(tempfile.mkdtemp()), gan, X[64:80], None, {}, {})
    >>> section = gan_section(ctx)
    >>> section.id, [f.filename for f in section.figures][0]
    ('gan', 'gan_losses.png')
    """
    if not is_gan(ctx.model):
        return None
    model = ctx.model
    figures = [ReportFigure(
        "gan_losses.png", plots_gan.plot_player_losses(model),
        "Per-epoch losses of both players and the discriminator's mean scores.")]
    snapshots = getattr(model, "progress_samples_", None)
    epochs = getattr(model, "progress_epochs_", None)
    if snapshots is not None and epochs is not None and len(epochs):
        figures.append(ReportFigure(
            "gan_progress.png", plots_gan.plot_training_progress(snapshots, epochs),
            "The generator's output for the same codes after each recorded epoch."))
    if ctx.is_image_data and not ctx.conditional:
        for method in ("linear", "spherical"):
            figures.append(ReportFigure(
                f"gan_walks_{method}.png",
                plots_gan.plot_latent_walks(model, method=method),
                f"{method.capitalize()} paths between pairs of random prior codes."))
    text = ""
    quality = ctx.run_info.get("sample_quality")
    if quality:
        text = _quality_html(quality)
    return Section("gan", "Adversarial training", text, figures)


#: Appended to the report's sections.
GAN_SECTIONS = [gan_section]
