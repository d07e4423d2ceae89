"""Data units <-> model units: centring per feature, one global scale."""

from dataclasses import dataclass

import numpy as np
from sklearn.utils import gen_batches

from ._data import CHUNK_ROWS, scan
from ._distributed import all_max, all_sum


@dataclass(frozen=True)
class Scaling:
    """How the model sees the data: ``(X / max_abs - mean) / unit``.

    The model sees and reconstructs data centred per feature and divided by one
    scalar ``unit`` (the root mean feature variance), so the training MSE is the
    data's MSE up to the constant :attr:`loss_to_data_units`: ``score`` measures
    what training minimised. Each feature's own spread enters only as a fixed
    gain on the decoder's output (:attr:`decoder_gain`), so constant features
    come back exactly and small features stay small.

    Per-feature standardization of the encoder's input was measured and rejected:
    it multiplies features that are almost constant in the training set (MNIST
    border pixels) by huge gains, and a test image that lights one of them up is
    encoded as garbage (held-out MSE 1.8 x PCA's on MNIST-20k instead of 0.55 x).

    Attributes
    ----------
    max_abs : float
        ``max|X|`` (1 for all-zero data): divided out first, which keeps huge
        values finite in float64.
    mean : ndarray of shape (n_features,)
        Per-feature mean of ``X / max_abs``.
    feature_std : ndarray of shape (n_features,)
        Per-feature standard deviation of ``X / max_abs``.
    unit : float
        Root mean of ``feature_std**2`` (1 for constant data): one model unit.
    """

    max_abs: float
    mean: np.ndarray
    feature_std: np.ndarray
    unit: float

    @classmethod
    def of(cls, X, distributed=False):
        """The scaling of ``X``, computed chunk by chunk (a memmap is never resident whole).

        ``distributed``: ``X`` is this process's shard, the statistics are of all shards.
        """
        n_samples, n_features = X.shape
        max_abs = max(float(np.max(np.abs(block))) for block in scan(X))
        total = np.zeros(n_features)
        if distributed:
            max_abs, n_samples = all_max(max_abs), int(all_sum(n_samples))
        max_abs = max_abs if max_abs > 0 else 1.0
        for block in scan(X):
            total += (block / max_abs).sum(axis=0, dtype=np.float64)
        mean = (all_sum(total) if distributed else total) / n_samples
        sum_sq = np.zeros(n_features)
        for block in scan(X):
            sum_sq += ((block / max_abs - mean) ** 2).sum(axis=0, dtype=np.float64)
        feature_std = np.sqrt((all_sum(sum_sq) if distributed else sum_sq) / n_samples)
        rms = float(np.sqrt(np.mean(feature_std**2)))
        return cls(max_abs=max_abs, mean=mean, feature_std=feature_std, unit=rms if rms > 0 else 1.0)

    def to_model(self, X):
        """Data units to model units, as a new float32 array."""
        out = np.empty(X.shape, dtype=np.float32)
        for s in gen_batches(X.shape[0], CHUNK_ROWS):
            out[s] = (X[s] / self.max_abs - self.mean) / self.unit
        return out

    def to_data(self, Z, dtype):
        """Model units back to data units, in ``dtype``."""
        out = (Z.astype(np.float64) * self.unit + self.mean) * self.max_abs
        return out.astype(dtype, copy=False)

    @property
    def decoder_gain(self):
        """Each feature's spread in model units: the fixed gain on the decoder's output."""
        return self.feature_std / self.unit

    @property
    def loss_to_data_units(self):
        """Factor that turns a mean squared error in model units into one in data units."""
        with np.errstate(over="ignore"):  # data near the float64 limit: inf, not an exception
            return np.float64(self.unit * self.max_abs) ** 2
