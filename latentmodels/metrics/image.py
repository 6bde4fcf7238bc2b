"""Image quality for denoising and reconstruction: PSNR and SSIM.

Both compare a clean reference with an estimate, image by image, and return the mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._internal.validation import check_data, check_number

__all__ = ["SSIM_BACKEND", "psnr", "ssim"]

# SSIM window after Wang et al. (2004): Gaussian weights, sigma 1.5, constants K1, K2.
_SSIM_SIGMA = 1.5
_SSIM_TRUNCATE = 3.5
_SSIM_K1 = 0.01
_SSIM_K2 = 0.03

try:  # scikit-image is optional: the reference implementation when installed.
    from skimage.metrics import structural_similarity as _skimage_ssim

    SSIM_BACKEND = "scikit-image"
except ImportError:  # pragma: no cover - depends on the environment
    _skimage_ssim = None
    SSIM_BACKEND = "latentmodels (numpy/scipy Gaussian window)"


def _image_pair(clean: Any, estimate: Any) -> tuple[np.ndarray, np.ndarray]:
    a = check_data(clean, "clean", min_ndim=1, dtype=np.float64)
    b = check_data(estimate, "estimate", min_ndim=1, dtype=np.float64)
    if a.size != b.size or len(a) != len(b):
        raise ValueError(
            f"clean and estimate must have the same shape, got {a.shape} and {b.shape}"
        )
    return a, b.reshape(a.shape)


def psnr(clean: Any, estimate: Any, *, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, computed per image and averaged.

    ``clean`` and ``estimate`` hold images ``(n, ...)`` (or one image); ``data_range`` is the
    span of the pixel scale (1 for images in [0, 1], 255 for 8-bit). A perfect estimate gives
    ``inf`` for that image; the mean is then ``inf`` too.

    Parameters
    ----------
    clean : array-like of shape (n_images, ...) or one image
        The reference images.
    estimate : array-like
        The estimates, same shape.
    data_range : float, default=1.0
        Span of the pixel scale.

    Returns
    -------
    float
        The mean PSNR in dB (``inf`` if some estimate is perfect).

    Examples
    --------
    >>> import numpy as np
    >>> round(psnr(np.zeros((1, 4, 4)), np.full((1, 4, 4), 0.1)), 2)
    20.0
    """
    a, b = _image_pair(clean, estimate)
    check_number(data_range, "data_range", low=0, low_inclusive=False)
    if a.ndim == 1:
        a, b = a[None], b[None]
    mse = ((a - b) ** 2).reshape(len(a), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        per_image = 10.0 * np.log10(data_range**2 / mse)
    return float(per_image.mean())


def _as_grey_batch(array: np.ndarray) -> np.ndarray:
    """(n, H, W) from (H, W), (n, H, W), (n, 1, H, W) or square flat (n, D)."""
    if array.ndim == 2 and int(np.sqrt(array.shape[1])) ** 2 == array.shape[1] and (
        array.shape[0] != array.shape[1]
    ):
        side = int(np.sqrt(array.shape[1]))
        return array.reshape(len(array), side, side)
    if array.ndim == 2:
        return array[None]
    if array.ndim == 4 and array.shape[1] == 1:
        return array[:, 0]
    if array.ndim == 3:
        return array
    raise ValueError(
        f"clean: SSIM needs grey images (H, W), (n, H, W), (n, 1, H, W) or square flat (n, D), "
        f"got shape {array.shape}"
    )


def _ssim_numpy(a: np.ndarray, b: np.ndarray, data_range: float) -> np.ndarray:
    """Mean SSIM per image with an 11x11 Gaussian window (sigma 1.5), borders cropped.

    Local means, variances and covariance are Gaussian-weighted averages (Wang et al. 2004);
    the five-pixel border where the window leaves the image is left out of the mean, as
    scikit-image does with ``gaussian_weights=True``.
    """
    from scipy.ndimage import gaussian_filter

    def blur(x: np.ndarray) -> np.ndarray:
        return gaussian_filter(x, sigma=(0, _SSIM_SIGMA, _SSIM_SIGMA), truncate=_SSIM_TRUNCATE)

    c1 = (_SSIM_K1 * data_range) ** 2
    c2 = (_SSIM_K2 * data_range) ** 2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    numerator = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    denominator = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    ssim_map = numerator / denominator
    pad = int(_SSIM_TRUNCATE * _SSIM_SIGMA + 0.5)
    if min(a.shape[1:]) > 2 * pad:
        ssim_map = ssim_map[:, pad:-pad, pad:-pad]
    return ssim_map.reshape(len(a), -1).mean(axis=1)


def ssim(clean: Any, estimate: Any, *, data_range: float = 1.0) -> float:
    """Structural similarity (Wang et al. 2004) of grey images, per image and averaged.

    Uses scikit-image's ``structural_similarity`` (Gaussian weights, sigma 1.5) when it is
    installed, otherwise an equivalent numpy/scipy implementation (:data:`SSIM_BACKEND`
    says which). 1.0 means identical images.

    Parameters
    ----------
    clean : array-like of shape (n_images, H, W) or one image
        The reference grey images.
    estimate : array-like
        The estimates, same shape.
    data_range : float, default=1.0
        Span of the pixel scale.

    Returns
    -------
    float
        The mean SSIM, at most 1.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((2, 28, 28))
    >>> ssim(x, x)
    1.0
    """
    a, b = _image_pair(clean, estimate)
    check_number(data_range, "data_range", low=0, low_inclusive=False)
    a = _as_grey_batch(a)
    b = b.reshape(a.shape)
    if _skimage_ssim is not None:
        values = [
            _skimage_ssim(x, z, data_range=data_range, gaussian_weights=True, sigma=_SSIM_SIGMA,
                          use_sample_covariance=False)
            for x, z in zip(a, b, strict=True)
        ]
        return float(np.mean(values))
    return float(np.round(_ssim_numpy(a, b, data_range).mean(), 12))
