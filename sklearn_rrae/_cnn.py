"""Convolutional encoder and decoder for images given as flat rows.

The paper's recipe for images: strided convolutions halve the image at every
layer, one linear map takes the last feature map to the long latent; the
decoder is the mirror image, a linear map back to that feature map and
transposed convolutions that double it, with the output padding of each layer
chosen so that the sizes retrace the encoder's exactly (odd sizes included).
Rows stay flat outside: both modules reshape inside, so they follow the same
contract as any encoder/decoder pair of the estimators (``(batch, n_features)``
to ``(batch, latent_dim)`` and back).

Feature maps and kernels are kept channels-last: a training step of these
networks on the CPU (oneDNN kernels) runs 1.2 to 1.3 x faster in that layout
than in the default one (``benchmarks/studies/cnn_layout.py``, benchmarks/NOTES.md).
"""

import math

import torch
from torch import nn

from ._activations import ACTIVATIONS

__all__ = ["ConvEncoder", "ConvDecoder"]


def _as_shape(input_shape, n_features):
    """``(channels, height, width)`` from a 2- or 3-tuple of positive ints holding ``n_features`` values."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(
            f"input_shape must be (channels, height, width) or (height, width) with positive "
            f"sizes. Got {input_shape!r}."
        )
    if math.prod(shape) != n_features:
        raise ValueError(
            f"input_shape={input_shape!r} holds {math.prod(shape)} values, "
            f"but the rows have n_features={n_features}."
        )
    return shape


def _conv_out(size, kernel_size, stride=2):
    """Spatial size after a convolution with padding ``kernel_size // 2``."""
    return (size + 2 * (kernel_size // 2) - kernel_size) // stride + 1


def _feature_map_sizes(height, width, n_layers, kernel_size):
    """(height, width) of the input and after each strided convolution."""
    sizes = [(height, width)]
    for _ in range(n_layers):
        h, w = sizes[-1]
        sizes.append((_conv_out(h, kernel_size), _conv_out(w, kernel_size)))
    return sizes


def _check_channels(channels):
    channels = tuple(int(c) for c in channels)
    if not channels or min(channels) < 1:
        raise ValueError(f"channels must be a non-empty tuple of positive ints. Got {channels!r}.")
    return channels


class ConvEncoder(nn.Module):
    """Strided convolutions, then a linear map to the latent vector.

    Parameters
    ----------
    n_features : int
        Width of the flat input rows: ``prod(input_shape)``.
    latent_dim : int
        Length of the output latent vector.
    input_shape : tuple of int
        ``(channels, height, width)`` or ``(height, width)`` of one image.
    channels : tuple of int, default=(16, 32, 64)
        Output channels of each convolution; each one has stride 2 and halves
        the height and width (rounding up).
    kernel_size : int, default=3
        Size of the square kernels (padding ``kernel_size // 2``).
    activation : str, default="silu"
        Key of :data:`sklearn_rrae._activations.ACTIVATIONS`, after every convolution.

    See Also
    --------
    ConvDecoder : The matching decoder.
    RRAETransformer : Builds this encoder when ``architecture="cnn"``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_rrae import ConvEncoder
    >>> encoder = ConvEncoder(n_features=28 * 28, latent_dim=16, input_shape=(28, 28))
    >>> encoder(torch.zeros(3, 28 * 28)).shape
    torch.Size([3, 16])
    """

    # Layout of the feature maps and kernels (channels-last: see the module's docstring);
    # a subclass may set another, as benchmarks/studies/cnn_layout.py does.
    memory_format = torch.channels_last

    def __init__(
        self, n_features, latent_dim, input_shape, channels=(16, 32, 64), kernel_size=3, activation="silu"
    ):
        super().__init__()
        self.input_shape = _as_shape(input_shape, n_features)
        channels = _check_channels(channels)
        c, h, w = self.input_shape
        layers = []
        for out_channels in channels:
            layers += [
                nn.Conv2d(c, out_channels, kernel_size, stride=2, padding=kernel_size // 2),
                ACTIVATIONS[activation](),
            ]
            c = out_channels
        self.convs = nn.Sequential(*layers).to(memory_format=self.memory_format)
        h, w = _feature_map_sizes(h, w, len(channels), kernel_size)[-1]
        self.linear = nn.Linear(c * h * w, latent_dim)

    def forward(self, X):
        images = X.reshape(X.shape[0], *self.input_shape).contiguous(memory_format=self.memory_format)
        return self.linear(self.convs(images).flatten(1))


class ConvDecoder(nn.Module):
    """Mirror image of :class:`ConvEncoder`: a linear map, then transposed convolutions.

    Parameters
    ----------
    latent_dim : int
        Length of the input latent vector.
    n_features : int
        Width of the flat output rows: ``prod(input_shape)``.
    input_shape : tuple of int
        ``(channels, height, width)`` or ``(height, width)`` of one image.
    channels : tuple of int, default=(16, 64, 128)
        Channels of the encoder this decoder mirrors, in the encoder's order: the
        decoder starts from a feature map with ``channels[-1]`` channels and goes
        through them in reverse, doubling the height and width at each layer.
        The default is wider than :class:`ConvEncoder`'s: on Fashion-MNIST a
        wider decoder lowered the reconstruction error more than a wider
        encoder did, at the same cost (benchmarks/NOTES.md).
    kernel_size : int, default=3
        Size of the square kernels.
    activation : str, default="silu"
        Key of :data:`sklearn_rrae._activations.ACTIVATIONS`, after every layer but
        the last (the output is linear).

    Notes
    -----
    The output padding (0 or 1) of each transposed convolution is chosen so that
    its output has the size of the matching encoder feature map: with padding
    ``kernel_size // 2`` a stride-2 layer always hits it, for any size and
    kernel, so the output has exactly ``input_shape``, odd sizes included.

    See Also
    --------
    ConvEncoder : The encoder this decoder mirrors.
    RRAETransformer : Builds this decoder when ``architecture="cnn"``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_rrae import ConvDecoder
    >>> decoder = ConvDecoder(latent_dim=16, n_features=3 * 15 * 20, input_shape=(3, 15, 20))
    >>> decoder(torch.zeros(2, 16)).shape
    torch.Size([2, 900])
    """

    # Layout of the feature maps and kernels (channels-last: see the module's docstring);
    # a subclass may set another, as benchmarks/studies/cnn_layout.py does.
    memory_format = torch.channels_last

    def __init__(
        self, latent_dim, n_features, input_shape, channels=(16, 64, 128), kernel_size=3, activation="silu"
    ):
        super().__init__()
        self.input_shape = _as_shape(input_shape, n_features)
        channels = _check_channels(channels)
        c_in, h, w = self.input_shape
        sizes = _feature_map_sizes(h, w, len(channels), kernel_size)
        self.start_shape = (channels[-1], *sizes[-1])
        self.linear = nn.Linear(latent_dim, math.prod(self.start_shape))
        targets = [*reversed(channels[:-1]), c_in]
        layers = [ACTIVATIONS[activation]()]
        c = channels[-1]
        for i, out_channels in enumerate(targets):
            (h_in, w_in), (h_out, w_out) = sizes[-1 - i], sizes[-2 - i]
            padding = kernel_size // 2
            natural = [(s - 1) * 2 - 2 * padding + kernel_size for s in (h_in, w_in)]
            output_padding = tuple(t - n for t, n in zip((h_out, w_out), natural, strict=True))
            layers.append(
                nn.ConvTranspose2d(
                    c, out_channels, kernel_size, stride=2, padding=padding, output_padding=output_padding
                )
            )
            if i < len(targets) - 1:
                layers.append(ACTIVATIONS[activation]())
            c = out_channels
        self.deconvs = nn.Sequential(*layers).to(memory_format=self.memory_format)

    def forward(self, Z):
        maps = (
            self.linear(Z).reshape(Z.shape[0], *self.start_shape).contiguous(memory_format=self.memory_format)
        )
        return self.deconvs(maps).flatten(1)
