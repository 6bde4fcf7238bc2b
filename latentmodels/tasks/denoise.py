"""Denoising through a latent space: encode a noisy sample, decode the code.

A model that learned the data's structure maps a corrupted input to a code near that of the
clean input, and its decoder draws what such codes usually look like. :func:`denoise` does
exactly that with the contract's ``transform`` and ``inverse_transform``;
:func:`evaluate_denoising` corrupts clean data (:func:`latentmodels.deep.corruption.corrupt`),
denoises it and reports PSNR and SSIM before and after.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._internal.validation import check_data
from ..deep.corruption import corrupt
from .anomaly import require_methods

__all__ = ["denoise", "evaluate_denoising", "plot_denoising"]


def denoise(
    model: Any, X_noisy: Any, *, clip: tuple[float, float] | None = None, y: Any = None
) -> np.ndarray:
    """Denoise by reconstruction: ``inverse_transform(transform(X_noisy))``.

    Works for autoencoders, denoising autoencoders and VAEs (posterior mean, then decoder
    mean), and for any model with both methods (scikit-learn's PCA projects onto its
    components). ``clip=(0, 1)`` clips the result to a pixel range; ``y`` holds the labels a
    conditional model needs. A model without one of
    the two methods (an HMM has no meaningful decoder for images) raises ``TypeError``.

    Parameters
    ----------
    model : object
        A fitted model with ``transform`` and ``inverse_transform``.
    X_noisy : array-like
        Noisy samples shaped like the training data.
    clip : tuple of float, optional
        ``(low, high)`` range the result is clipped to.
    y : array-like, optional
        Labels, for conditional models.

    Returns
    -------
    numpy.ndarray
        The reconstructions, shaped like ``X_noisy``.

    Examples
    --------
    >>> from latentmodels import DenoisingAutoencoder, datasets
    >>> from latentmodels.deep.corruption import corrupt
    >>> X, _ = datasets.load_mnist()
    >>> dae = DenoisingAutoencoder(epochs=1, verbose=0, random_state=0).fit(X[:100])
    >>> denoise(dae, corrupt(X[:4], "gaussian", 0.3, random_state=0)).shape
    (4, 28, 28)
    """
    require_methods(model, "denoise", "transform", "inverse_transform")
    data = check_data(X_noisy, "X_noisy")
    if y is None:
        rebuilt = model.inverse_transform(model.transform(data))
    else:
        rebuilt = model.inverse_transform(model.transform(data, y=y), y=y)
    rebuilt = np.asarray(rebuilt, dtype=np.float32)
    if rebuilt.size != data.size:
        raise ValueError(
            f"X_noisy: the model decodes samples of shape {rebuilt.shape[1:]}, which do not "
            f"match the input's {data.shape[1:]}"
        )
    rebuilt = rebuilt.reshape(data.shape)
    if clip is not None:
        low, high = clip
        rebuilt = np.clip(rebuilt, low, high)
    return rebuilt


def evaluate_denoising(
    model: Any,
    X_clean: Any,
    *,
    kind: str = "gaussian",
    level: float = 0.3,
    random_state: Any = 0,
    data_range: float = 1.0,
) -> dict[str, float]:
    """Corrupt ``X_clean``, denoise it with ``model`` and measure PSNR/SSIM.

    Both the noisy and the denoised images are compared with the clean ones (mean per
    image).

    The noisy images are clipped to [0, ``data_range``] like real images would be.

    Parameters
    ----------
    model : object
        A fitted model with ``transform`` and ``inverse_transform``.
    X_clean : array-like
        Clean images in [0, ``data_range``].
    kind : str, default="gaussian"
        The corruption (see :func:`latentmodels.deep.corruption.corrupt`).
    level : float, default=0.3
        Its strength.
    random_state : None or int, default=0
        Seed of the corruption.
    data_range : float, default=1.0
        Span of the pixel scale.

    Returns
    -------
    dict of str to float
        ``psnr_noisy``, ``psnr_denoised``, ``ssim_noisy`` and ``ssim_denoised``.

    Examples
    --------
    >>> from latentmodels import VAE, datasets
    >>> X, _ = datasets.load_mnist()
    >>> vae = VAE(latent_dim=2, epochs=1, verbose=0, random_state=0).fit(X[:64])
    >>> result = evaluate_denoising(vae, X[:20], kind="masking", level=0.25)
    >>> sorted(result)
    ['psnr_denoised', 'psnr_noisy', 'ssim_denoised', 'ssim_noisy']
    """
    from ..metrics import psnr, ssim

    clean = check_data(X_clean, "X_clean")
    noisy = np.clip(corrupt(clean, kind, level, random_state=random_state), 0.0, data_range)
    cleaned = denoise(model, noisy, clip=(0.0, data_range))
    result = {
        "psnr_noisy": psnr(clean, noisy, data_range=data_range),
        "psnr_denoised": psnr(clean, cleaned, data_range=data_range),
    }
    try:
        result["ssim_noisy"] = ssim(clean, noisy, data_range=data_range)
        result["ssim_denoised"] = ssim(clean, cleaned, data_range=data_range)
    except ValueError:  # not images: SSIM does not apply
        pass
    return result


def plot_denoising(
    clean: Any, noisy: Any, denoised: Any, *, n: int = 10, path: Any = None
) -> Any:
    """Three rows of images: clean, noisy, denoised (the first ``n`` samples).

    Parameters
    ----------
    clean, noisy, denoised : array-like
        The three sets of images, aligned.
    n : int, default=10
        Images per row.
    path : str or os.PathLike, optional
        Also write the figure there as a PNG.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> clean = np.random.default_rng(0).random((4, 28, 28))
    >>> fig = plot_denoising(clean, clean + 0.1, clean, n=4)
    >>> type(fig).__name__
    'Figure'
    """
    from .. import plots

    rows = []
    for label, images in (("clean", clean), ("noisy", noisy), ("denoised", denoised)):
        rows.append((label, plots.as_images(check_data(images, label)[:n], name=label)))
    lo, hi = plots.display_range(*(images for _, images in rows))
    fig = plots.grid_figure(rows, min(n, len(rows[0][1])), lo, hi, "Denoising")
    if path is not None:
        plots.save_figure(fig, path)
    return fig
