"""Encoder and decoder networks shared by the deep models (autoencoders, VAEs, GANs).

Two architectures: ``"mlp"`` (flattened input, fully connected layers) and ``"conv"``
(stride-2 convolutions for images ``(C, H, W)``, mirrored by transposed convolutions).
Both take an optional condition vector (a one-hot class), concatenated where it is
cheapest: to the flattened input/feature vector, never to image channels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

ARCHITECTURES = ("mlp", "conv")


def image_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """Return ``(C, H, W)`` for a per-sample shape ``(H, W)`` or ``(C, H, W)``.

    Parameters
    ----------
    input_shape : sequence of int
        Shape of one sample; any other length raises a ``ValueError`` naming ``X``.

    Returns
    -------
    shape : (int, int, int)

    Examples
    --------
    >>> from latentmodels.deep.nn.blocks import image_shape
    >>> image_shape((28, 28)), image_shape((3, 32, 32))
    ((1, 28, 28), (3, 32, 32))
    """
    if len(input_shape) == 2:
        return (1, int(input_shape[0]), int(input_shape[1]))
    if len(input_shape) == 3:
        return tuple(int(s) for s in input_shape)  # type: ignore[return-value]
    raise ValueError(
        "X: the 'conv' architecture needs images of shape (n, H, W) or (n, C, H, W), "
        f"got per-sample shape {tuple(input_shape)}"
    )


def _mlp(in_features: int, hidden: Sequence[int], out_features: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = in_features
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """Maps a batch of inputs (and an optional condition) to ``out_features`` numbers.

    Parameters
    ----------
    architecture : {"mlp", "conv"}
        Fully connected layers on the flattened input, or stride-2 convolutions.
    input_shape : sequence of int
        Shape of one sample.
    hidden_dims : sequence of int
        Layer widths (MLP) or channels (conv).
    out_features : int
        Outputs per sample.
    condition_dim : int
        Size of the condition vector appended to the features (0: none).

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.nn.blocks import Encoder
    >>> Encoder("conv", (28, 28), (8, 16), out_features=4)(torch.zeros(2, 28, 28)).shape
    torch.Size([2, 4])
    """

    def __init__(
        self,
        architecture: str,
        input_shape: Sequence[int],
        hidden_dims: Sequence[int],
        out_features: int,
        condition_dim: int = 0,
    ) -> None:
        super().__init__()
        self.architecture = architecture
        self.condition_dim = condition_dim
        if architecture == "mlp":
            self.features = nn.Flatten()
            self.head = _mlp(math.prod(input_shape) + condition_dim, hidden_dims, out_features)
        elif architecture == "conv":
            channels, height, width = image_shape(input_shape)
            self.input_view = (channels, height, width)
            convs: list[nn.Module] = []
            for size in hidden_dims:
                convs += [nn.Conv2d(channels, size, 4, stride=2, padding=1), nn.ReLU()]
                channels, height, width = size, height // 2, width // 2
                if height < 1 or width < 1:
                    raise ValueError(
                        f"hidden_dims: {len(hidden_dims)} stride-2 convolutions shrink "
                        f"{tuple(input_shape)} images to nothing; use fewer layers"
                    )
            convs.append(nn.Flatten())
            self.features = nn.Sequential(*convs)
            self.head = nn.Linear(channels * height * width + condition_dim, out_features)
        else:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if self.architecture == "conv":
            x = x.reshape(x.shape[0], *self.input_view)
        h = self.features(x)
        if condition is not None:
            h = torch.cat([h, condition], dim=1)
        return self.head(h)


class Decoder(nn.Module):
    """Maps latent codes (and an optional condition) to outputs of ``output_shape``.

    Returns pre-activation values (logits for Bernoulli data, means for Gaussian data).

    Parameters
    ----------
    architecture : {"mlp", "conv"}
        Fully connected layers, or transposed convolutions mirroring the :class:`Encoder`.
    latent_dim : int
        Size of the codes.
    hidden_dims : sequence of int
        The encoder's widths or channels (used in reverse).
    output_shape : sequence of int
        Shape of one output sample.
    condition_dim : int
        Size of the condition vector appended to the code (0: none).

    Examples
    --------
    >>> import torch
    >>> from latentmodels.deep.nn.blocks import Decoder
    >>> Decoder("mlp", 2, (16,), (28, 28))(torch.zeros(3, 2)).shape
    torch.Size([3, 28, 28])
    """

    def __init__(
        self,
        architecture: str,
        latent_dim: int,
        hidden_dims: Sequence[int],
        output_shape: Sequence[int],
        condition_dim: int = 0,
    ) -> None:
        super().__init__()
        self.architecture = architecture
        self.output_shape = tuple(int(s) for s in output_shape)
        in_features = latent_dim + condition_dim
        if architecture == "mlp":
            self.body = _mlp(in_features, list(reversed(hidden_dims)), math.prod(output_shape))
        elif architecture == "conv":
            channels, height, width = image_shape(output_shape)
            # Sizes at every level of the mirrored encoder, so odd sizes come back exactly.
            sizes = [(height, width)]
            for _ in hidden_dims:
                sizes.append((sizes[-1][0] // 2, sizes[-1][1] // 2))
            widths = list(hidden_dims)
            top_h, top_w = sizes[-1]
            self.top_view = (widths[-1], top_h, top_w)
            layers: list[nn.Module] = [nn.Linear(in_features, widths[-1] * top_h * top_w)]
            layers += [nn.ReLU(), nn.Unflatten(1, self.top_view)]
            for level in range(len(widths) - 1, -1, -1):
                in_channels = widths[level]
                out_channels = widths[level - 1] if level > 0 else channels
                (small_h, small_w), (big_h, big_w) = sizes[level + 1], sizes[level]
                layers.append(
                    nn.ConvTranspose2d(
                        in_channels,
                        out_channels,
                        4,
                        stride=2,
                        padding=1,
                        output_padding=(big_h - 2 * small_h, big_w - 2 * small_w),
                    )
                )
                if level > 0:
                    layers.append(nn.ReLU())
            self.body = nn.Sequential(*layers)
        else:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")

    def forward(self, z: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if condition is not None:
            z = torch.cat([z, condition], dim=1)
        return self.body(z).reshape(z.shape[0], *self.output_shape)
