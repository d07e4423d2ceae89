"""The PCA start (``init="pca"``): a model whose first forward pass is PCA's solution.

The encoder is the exact linear map of the training data onto its top ``k``
principal axes (in model units, computed in float64, frozen), written to the
first ``k`` latent coordinates, plus the built-in MLP as a residual; the decoder
is PCA's reconstruction from those coordinates plus a residual MLP. Both
residuals' last layers start at zero, so training starts at PCA's solution and
the networks only learn what PCA misses, while the truncation still acts on the
whole latent.

Why: from random weights, float32 Adam stops at a relative precision that on raw
tabular data of mixed scales is a large absolute error (breast cancer at k = 5:
63.8 x PCA's held-out MSE, 0.635 x from this start; benchmarks/NOTES.md).
"""

import numpy as np
import scipy.linalg
import torch
from sklearn.utils.extmath import svd_flip
from torch import nn

from ._data import scan
from ._distributed import all_sum


def smaller_gram(X, centred, distributed=False):
    """The smaller Gram matrix of ``centred(X)`` (float64), and the centred rows when it is theirs.

    Features x features summed chunk by chunk, so that a memmap is never resident
    whole: ``(Z.T @ Z, None)``; or rows x rows when there are fewer rows than
    features (320 faces of 4096 pixels): ``(Z @ Z.T, Z)``. ``centred`` maps a block
    of rows of ``X`` to centred float64 rows. In a process group (``distributed``)
    only the features' side adds up across the shards, and it is summed over them.
    """
    n_samples, n_features = X.shape
    if n_features <= n_samples or distributed:
        gram = np.zeros((n_features, n_features))
        for block in scan(X):
            Z = centred(block)
            gram += Z.T @ Z
        return (all_sum(gram) if distributed else gram), None
    Z = centred(X)
    return Z @ Z.T, Z


def principal_axes(X, scaling, k, distributed=False):
    """The top ``k`` principal axes of ``X`` in model units, float64, shape (k, n_features).

    From the smaller of the two Gram matrices (:func:`smaller_gram`), with LAPACK's
    subset eigensolver. Signs follow ``svd_flip``; axes beyond the data's rank are zero.
    """
    n_samples, n_features = X.shape

    def model_units(block):
        return (np.asarray(block, dtype=np.float64) / scaling.max_abs - scaling.mean) / scaling.unit

    gram, Z = smaller_gram(X, model_units, distributed)
    if Z is None:
        values, vectors = scipy.linalg.eigh(gram, subset_by_index=[n_features - k, n_features - 1])
        axes = vectors[:, ::-1].T
        values = values[::-1]
        axes[values <= values[0] * n_features * np.finfo(np.float64).eps] = 0.0
    else:
        values, vectors = scipy.linalg.eigh(gram, subset_by_index=[n_samples - k, n_samples - 1])
        values, vectors = values[::-1], vectors[:, ::-1]
        kept = values > values[0] * n_samples * np.finfo(np.float64).eps
        scale = np.sqrt(np.where(kept, values, 1.0))
        axes = np.where(kept[:, None], (vectors.T @ Z) / scale[:, None], 0.0)
    _, axes = svd_flip(None, axes, u_based_decision=False)
    return axes.copy()  # a fresh array: the reversed eigenvector views have negative strides


def _last_linear(network):
    """The last ``nn.Linear`` of ``network``: its output layer."""
    return [m for m in network.modules() if isinstance(m, nn.Linear)][-1]


def _zero_last_layer(network):
    """Set the last ``nn.Linear`` of ``network`` to zero: its output starts at zero."""
    last = _last_linear(network)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return network


# The encoder's linear map has at least this many output rows (zero beyond the
# axes): MKL's float32 GEMM with 2 to 11 outputs gave results that depend on a
# row's position in the batch (1 ulp, 5 to 50 features, one thread), 12 and more
# did not, and a sample's code must not depend on its neighbours (_base._map_rows).
_MIN_MAP_ROWS = 16


class PCAStartEncoder(nn.Module):
    """``x -> [x @ axes.T, 0] + residual(x)``; the residual starts at zero.

    Parameters
    ----------
    residual : torch.nn.Module
        Maps ``(batch, n_features)`` to ``(batch, latent_dim)``; its last linear
        layer is set to zero here.
    axes : array-like of shape (k, n_features)
        The principal axes (frozen).
    """

    def __init__(self, residual, axes):
        super().__init__()
        self.residual = _zero_last_layer(residual)
        axes = np.asarray(axes)
        self.n_axes = axes.shape[0]
        latent_dim = _last_linear(residual).out_features
        rows = min(latent_dim, max(self.n_axes, _MIN_MAP_ROWS))
        linear_map = np.zeros((rows, axes.shape[1]), dtype=np.float32)
        linear_map[: self.n_axes] = axes
        self.register_buffer("linear_map", torch.from_numpy(linear_map))

    @property
    def axes(self):
        """The principal axes, shape (k, n_features)."""
        return self.linear_map[: self.n_axes]

    def forward(self, X):
        Z = self.residual(X)
        rows = self.linear_map.shape[0]
        return torch.cat([Z[:, :rows] + nn.functional.linear(X, self.linear_map), Z[:, rows:]], dim=1)


class PCAStartDecoder(nn.Module):
    """``z -> z[:, :k] @ axes / output_gain + residual(z)``; the residual starts at zero.

    The module multiplies the decoder's output by a fixed per-feature gain
    (``RRAEModule.decode``); the linear path divides it out, so that it is PCA's
    reconstruction exactly (a constant feature, of gain 0, comes back as its mean).
    """

    def __init__(self, residual, axes, output_gain):
        super().__init__()
        self.residual = _zero_last_layer(residual)
        self.register_buffer("axes", torch.tensor(np.asarray(axes), dtype=torch.float32))
        gain = np.asarray(output_gain, dtype=np.float64)
        inverse = np.divide(1.0, gain, out=np.zeros_like(gain), where=gain > 0)
        self.register_buffer("inverse_gain", torch.as_tensor(inverse, dtype=torch.float32))

    def forward(self, Z):
        k = self.axes.shape[0]
        return (Z[:, :k] @ self.axes) * self.inverse_gain + self.residual(Z)


def pca_start(encoder, decoder, axes, output_gain):
    """The (encoder, decoder) pair that starts as PCA on ``axes``, around these residuals."""
    return PCAStartEncoder(encoder, axes), PCAStartDecoder(decoder, axes, output_gain)
