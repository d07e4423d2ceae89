"""skorch glue: batches sliced from one device tensor, and a divergence guard."""

import math

import torch
from skorch.callbacks import Callback


def count_batches(n_samples, batch_size, min_batch_size=1):
    """Number of batches per epoch, once a too-small last batch is merged."""
    n_batches = max(1, math.ceil(n_samples / batch_size))
    if n_batches > 1 and n_samples - (n_batches - 1) * batch_size < min_batch_size:
        n_batches -= 1
    return n_batches


class TensorDataset(torch.utils.data.Dataset):
    """The (already scaled, already on-device) training matrix, as skorch sees it.

    The autoencoder's target is its input, so ``y`` is not stored.
    """

    def __init__(self, X):
        self.X = X

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        return self.X[i], self.X[i]


class BatchIterator:
    """Yield ``(X_batch, X_batch)`` slices of a :class:`TensorDataset`.

    A drop-in for ``torch.utils.data.DataLoader`` that indexes the whole batch at
    once instead of collating rows one by one.

    Parameters
    ----------
    dataset : TensorDataset
    batch_size : int
    shuffle : bool
        Draw a new permutation every epoch from ``generator``.
    generator : torch.Generator or None
        Owns the shuffling, so the global torch RNG is not consumed.
    min_batch_size : int
        A last, smaller batch with fewer rows than this is merged into the previous
        one: a batch must have more rows than the rank it is truncated to.
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None, min_batch_size=1):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.min_batch_size = min_batch_size

    def __len__(self):
        return count_batches(len(self.dataset), self.batch_size, self.min_batch_size)

    def __iter__(self):
        X = self.dataset.X
        n = X.shape[0]
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(X.device)
        else:
            order = None
        n_batches = len(self)
        for b in range(n_batches):
            start = b * self.batch_size
            stop = n if b == n_batches - 1 else start + self.batch_size
            Xb = X[order[start:stop]] if order is not None else X[start:stop]
            yield Xb, Xb


class TrainingDivergedError(ValueError, FloatingPointError):
    """Raised when the training loss stops being finite."""


class DivergenceGuard(Callback):
    """Stop training with a clear error as soon as a batch loss is not finite.

    Without it, the next forward pass would hand NaN weights to the eigensolver.
    """

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if loss is not None and not torch.isfinite(loss).all():
            epoch = len(net.history)
            raise TrainingDivergedError(
                f"Training diverged at epoch {epoch}: the loss became {loss.item()}. "
                f"Lower the learning rate `lr` (currently {net.lr})."
            )
