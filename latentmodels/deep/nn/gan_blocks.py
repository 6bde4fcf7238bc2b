"""Generator and discriminator networks for GANs: fully connected or DCGAN-style conv.

The conv networks work on square images whose side halves down to 3..7 pixels in at
least two steps (28 -> 14 -> 7, 32 -> 16 -> 8 -> 4, 64 -> ... -> 4). The generator uses
pixel normalisation instead of batch normalisation, so a sample never depends on the rest
of its batch and training and inference behave alike. The discriminator can be spectrally
normalised and reads a class condition by projection (Miyato & Koyama 2018), so it can
judge whether an image fits its class.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

ARCHITECTURES = ("mlp", "conv")
_SLOPE = 0.2  # LeakyReLU slope of DCGAN discriminators


def conv_geometry(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """Return ``(channels, top_side, levels)`` of the conv networks for an image shape.

    Raises a ``ValueError`` naming ``X`` when the images do not suit the conv networks.

    Parameters
    ----------
    input_shape : sequence of int
        Shape of one image, ``(H, W)`` or ``(C, H, W)``.

    Returns
    -------
    geometry : (int, int, int)
        Channels, side of the smallest feature map, and number of resolution levels.

    Examples
    --------
    >>> from latentmodels.deep.nn.gan_blocks import conv_geometry
    >>> conv_geometry((28, 28)), conv_geometry((3, 64, 64))
    ((1, 7, 2), (3, 4, 4))
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(
            "X: the 'conv' GAN needs square images of shape (n, H, W) or (n, C, H, W), "
            f"got per-sample shape {tuple(input_shape)}; use architecture='mlp' otherwise"
        )
    channels, side = shape[0], shape[1]
    top, levels = side, 0
    while top % 2 == 0 and top > 7:
        top //= 2
        levels += 1
    if levels < 2 or top < 3:
        raise ValueError(
            f"X: the 'conv' GAN needs square images whose side halves to 3..7 pixels in at "
            f"least two steps (e.g. 28, 32, 64), got {side}x{side}; use architecture='mlp'"
        )
    return channels, top, levels


def default_hidden(
    architecture: str, input_shape: Sequence[int], *, first_channels: int = 32
) -> tuple[int, ...]:
    """Default hidden widths (MLP) or channels per level, highest resolution first (conv).

    Conv channels start at ``first_channels`` and double per level, up to 512. 32 trains
    about three times faster on a CPU than 64 (BENCHMARKS.md, "Default GAN against default
    VAE"); GAN files that record no network were built with 64.

    Parameters
    ----------
    architecture : {"mlp", "conv"}
        The networks' kind.
    input_shape : sequence of int
        Shape of one image (conv) or sample (MLP).
    first_channels : int
        Channels of the highest-resolution level (conv only).

    Returns
    -------
    hidden_dims : tuple of int

    Examples
    --------
    >>> from latentmodels.deep.nn.gan_blocks import default_hidden
    >>> default_hidden("mlp", (2,)), default_hidden("conv", (28, 28))
    ((256, 256), (32, 64))
    >>> default_hidden("conv", (3, 64, 64), first_channels=64)
    (64, 128, 256, 512)
    """
    if architecture == "mlp":
        return (256, 256)
    _, _, levels = conv_geometry(input_shape)
    return tuple(min(first_channels * 2**i, 512) for i in range(levels))


class PixelNorm(nn.Module):
    """Scale each pixel's feature vector to unit mean square (Karras et al. 2018).

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.nn.gan_blocks import PixelNorm
    >>> out = PixelNorm()(torch.full((1, 4, 2, 2), 3.0))
    >>> round(float(out.pow(2).mean(dim=1).max()), 4)
    1.0
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class Generator(nn.Module):
    """Maps latent codes (and an optional one-hot condition) to samples.

    With ``data_range=(low, high)`` the output passes through a scaled sigmoid and lies
    in that range; with ``None`` it is unbounded.

    Parameters
    ----------
    architecture : {"mlp", "conv"}
        Fully connected layers, or DCGAN-style transposed convolutions with pixel norm.
    latent_dim : int
        Size of the codes.
    hidden_dims : sequence of int
        MLP widths, or channels per level, highest resolution first.
    output_shape : sequence of int
        Shape of one sample.
    condition_dim : int
        Size of the one-hot condition appended to the code (0: none).
    data_range : (float, float) or None
        Range of the outputs.
    image_shape : sequence of int or None
        Conv only: the image shape the layers produce, reshaped to ``output_shape`` (same
        number of values); None: ``output_shape`` itself.

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.nn.gan_blocks import Generator
    >>> out = Generator("conv", 8, (16, 8), (28, 28))(torch.randn(2, 8))
    >>> out.shape, bool(out.min() >= 0 and out.max() <= 1)
    (torch.Size([2, 28, 28]), True)
    >>> Generator("conv", 8, (16, 8), (784,), image_shape=(28, 28))(torch.randn(2, 8)).shape
    torch.Size([2, 784])
    """

    def __init__(
        self,
        architecture: str,
        latent_dim: int,
        hidden_dims: Sequence[int],
        output_shape: Sequence[int],
        condition_dim: int = 0,
        data_range: tuple[float, float] | None = (0.0, 1.0),
        image_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.output_shape = tuple(int(s) for s in output_shape)
        self.data_range = None if data_range is None else tuple(float(v) for v in data_range)
        in_features = latent_dim + condition_dim
        if architecture == "mlp":
            layers: list[nn.Module] = []
            width = in_features
            for size in reversed(tuple(hidden_dims)):
                layers += [nn.Linear(width, size), nn.ReLU()]
                width = size
            layers.append(nn.Linear(width, math.prod(self.output_shape)))
            self.body = nn.Sequential(*layers)
        elif architecture == "conv":
            image_shape = _image_shape(image_shape, self.output_shape)
            channels, top, levels = conv_geometry(image_shape)
            widths = _check_widths(hidden_dims, levels, image_shape)
            layers = [
                nn.Linear(in_features, widths[-1] * top * top),
                nn.Unflatten(1, (widths[-1], top, top)),
                nn.ReLU(),
                PixelNorm(),
            ]
            for level in range(levels - 1, -1, -1):
                out_channels = widths[level - 1] if level > 0 else channels
                layers.append(nn.ConvTranspose2d(widths[level], out_channels, 4, 2, 1))
                if level > 0:
                    layers += [nn.ReLU(), PixelNorm()]
            self.body = nn.Sequential(*layers)
        else:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")

    def forward(self, z: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if condition is not None:
            z = torch.cat([z, condition], dim=1)
        out = self.body(z).reshape(z.shape[0], *self.output_shape)
        if self.data_range is not None:
            low, high = self.data_range
            out = low + (high - low) * torch.sigmoid(out)
        return out


class Discriminator(nn.Module):
    """Scores samples (higher = more real); one real number per sample.

    A condition enters by projection: ``score = w . h(x) + b + <E c, h(x)>``, where ``h``
    are the last hidden features and ``E`` embeds the one-hot class ``c``.

    Parameters
    ----------
    architecture : {"mlp", "conv"}
        Fully connected layers, or DCGAN-style strided convolutions.
    input_shape : sequence of int
        Shape of one sample.
    hidden_dims : sequence of int
        MLP widths, or channels per level, highest resolution first.
    condition_dim : int
        Number of classes of the projected condition (0: none).
    spectral_norm : bool
        Spectrally normalise every layer.
    image_shape : sequence of int or None
        Conv only: the image shape samples are reshaped to (same number of values); None:
        ``input_shape`` itself.

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.nn.gan_blocks import Discriminator
    >>> Discriminator("mlp", (2,), (16, 16))(torch.randn(5, 2)).shape
    torch.Size([5])
    """

    def __init__(
        self,
        architecture: str,
        input_shape: Sequence[int],
        hidden_dims: Sequence[int],
        condition_dim: int = 0,
        spectral_norm: bool = True,
        image_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        norm = _spectral_norm if spectral_norm else (lambda layer: layer)
        layers: list[nn.Module] = []
        if architecture == "mlp":
            width = math.prod(self.input_shape)
            layers.append(nn.Flatten())
            for size in hidden_dims:
                layers += [norm(nn.Linear(width, size)), nn.LeakyReLU(_SLOPE)]
                width = size
            self.view: tuple[int, ...] | None = None
        elif architecture == "conv":
            image_shape = _image_shape(image_shape, self.input_shape)
            channels, top, levels = conv_geometry(image_shape)
            widths = _check_widths(hidden_dims, levels, image_shape)
            self.view = (channels, top * 2**levels, top * 2**levels)
            for size in widths:
                layers += [norm(nn.Conv2d(channels, size, 4, 2, 1)), nn.LeakyReLU(_SLOPE)]
                channels = size
            layers.append(nn.Flatten())
            width = channels * top * top
        else:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        self.features = nn.Sequential(*layers)
        self.head = norm(nn.Linear(width, 1))
        self.embed = norm(nn.Linear(condition_dim, width, bias=False)) if condition_dim else None

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if self.view is not None:
            x = x.reshape(x.shape[0], *self.view)
        h = self.features(x)
        score = self.head(h).squeeze(1)
        if self.embed is not None and condition is not None:
            score = score + (self.embed(condition) * h).sum(dim=1)
        return score


def _image_shape(image_shape: Sequence[int] | None, shape: tuple[int, ...]) -> tuple[int, ...]:
    if image_shape is None:
        return shape
    image_shape = tuple(int(s) for s in image_shape)
    if math.prod(image_shape) != math.prod(shape):
        raise ValueError(f"image_shape: {image_shape} holds {math.prod(image_shape)} values, "
                         f"but samples of shape {shape} hold {math.prod(shape)}")
    return image_shape


def _check_widths(hidden_dims: Sequence[int], levels: int, shape: Sequence[int]) -> list[int]:
    widths = [int(w) for w in hidden_dims]
    if len(widths) != levels:
        raise ValueError(
            f"hidden_dims: a conv GAN on images of shape {tuple(shape)} has {levels} "
            f"resolution levels, so it needs {levels} channel counts; got {len(widths)}"
        )
    return widths
