"""skorch glue: the training data as datasets, their batches, and a divergence guard.

Two datasets share one interface (``len``, ``take(index)``, ``chunks()``,
``subset(rows)``): :class:`TensorDataset` holds the whole scaled matrix as one
tensor on the training device (the fast path for data that fits), and
:class:`ArrayDataset` reads rows from the caller's array (for instance a
``numpy.memmap``) batch by batch, scaling and moving each batch on its own.
"""

import math
import mmap
import sys

import numpy as np
import torch
from skorch.callbacks import Callback

# Rows per chunk when scanning data outside training (scaling statistics, the basis).
CHUNK_ROWS = 8192
# Rows of a memory map read between two releases of its pages (ArrayDataset).
_ROWS_PER_RELEASE = 16


def count_batches(n_samples, batch_size, min_batch_size=1):
    """Number of batches per epoch, once a too-small last batch is merged."""
    n_batches = max(1, math.ceil(n_samples / batch_size))
    if n_batches > 1 and n_samples - (n_batches - 1) * batch_size < min_batch_size:
        n_batches -= 1
    return n_batches


def row_chunks(n_rows, chunk=CHUNK_ROWS):
    for start in range(0, n_rows, chunk):
        yield slice(start, min(start + chunk, n_rows))


def _shared_file_mapping(X):
    """The ``mmap`` under ``X`` when it is a shared (not copy-on-write) file mapping."""
    mode = None
    base = X
    while base is not None:
        if isinstance(base, np.memmap):
            mode = base.mode
        if isinstance(base, mmap.mmap):
            return base if mode in ("r", "r+", "w+") else None
        base = getattr(base, "base", None)
    return None


def release_pages(X):
    """Drop the pages of a memory-mapped ``X`` from this process's resident memory.

    Pages of a file mapping that have been read stay mapped, and counted in the
    process's resident memory, until the mapping goes: one pass over a memmap
    would otherwise make all of it resident. For a shared mapping (modes "r",
    "r+", "w+") ``MADV_DONTNEED`` only unmaps: the data stay in the page cache
    and in the file, and the next read maps them again. Copy-on-write mappings
    (mode "c") are left alone, since it would discard their private changes.
    """
    if sys.platform != "linux" or not hasattr(mmap, "MADV_DONTNEED"):
        return
    mapping = _shared_file_mapping(X)
    if mapping is not None:
        mapping.madvise(mmap.MADV_DONTNEED)


def scan(X, chunk=CHUNK_ROWS):
    """Yield ``X`` chunk by chunk, releasing the pages of a memory map as it goes."""
    for s in row_chunks(X.shape[0], chunk):
        yield X[s]
        release_pages(X)


def to_device(array, device):
    """A float32 numpy array as a tensor on ``device``.

    To a GPU through pinned memory with a non-blocking copy, so the copy overlaps
    with the work already queued on the device.
    """
    tensor = torch.from_numpy(array)
    if torch.device(device).type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


class TensorDataset(torch.utils.data.Dataset):
    """The (already scaled, already on-device) training matrix, as skorch sees it.

    The autoencoder's target is its input, so ``y`` is not stored.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
    rows : torch.Tensor of int64 or None
        The rows of ``X`` this dataset holds (a validation split, say); None: all.
    """

    def __init__(self, X, rows=None):
        self.X = X
        self.rows = rows

    @property
    def index_device(self):
        return self.X.device

    def __len__(self):
        return self.X.shape[0] if self.rows is None else len(self.rows)

    def take(self, index):
        """Rows at positions ``index`` (a slice or an int64 tensor) of this dataset."""
        return self.X[index] if self.rows is None else self.X[self.rows[index]]

    def chunks(self):
        for s in row_chunks(len(self)):
            yield self.take(s)

    def subset(self, rows):
        """The rows at positions ``rows`` of this dataset (itself possibly a subset)."""
        rows = torch.as_tensor(rows, device=self.X.device)
        return TensorDataset(self.X, rows if self.rows is None else self.rows[rows])

    def __getitem__(self, i):
        Xi = self.take(i)
        return Xi, Xi


class ArrayDataset(torch.utils.data.Dataset):
    """Rows of a numpy array (a memmap, say), scaled and moved batch by batch.

    Only the rows of the current batch are ever copied, so the training data
    need not fit in memory; the pages of a memory map are released as they are
    read (:func:`release_pages`).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Data units; never modified.
    prepare : callable
        Rows of ``X`` to model units, as a new float32 array.
    device : str
    rows : ndarray of int or None
        The rows of ``X`` this dataset holds; None: all.
    """

    def __init__(self, X, prepare, device, rows=None):
        self.X = X
        self.prepare = prepare
        self.device = device
        self.rows = rows
        self._mapped = _shared_file_mapping(X) is not None

    index_device = "cpu"

    def __len__(self):
        return self.X.shape[0] if self.rows is None else len(self.rows)

    def take(self, index):
        if isinstance(index, torch.Tensor):
            index = index.numpy()
        if self.rows is not None:
            index = self.rows[index]
        block = self._gather(np.arange(len(self))[index] if isinstance(index, slice) else index)
        return to_device(self.prepare(block), self.device)

    def _gather(self, index):
        if not self._mapped:
            return self.X[index]
        # A page fault on a file mapping maps a whole block of the page cache
        # around the row read (about 1 MB per random row measured on Linux 6.18,
        # whose page cache holds large folios): read the rows in file order a
        # few at a time and release the mapping in between.
        order = np.argsort(index, kind="stable")
        block = np.empty((len(index), self.X.shape[1]), dtype=self.X.dtype)
        for start in range(0, len(index), _ROWS_PER_RELEASE):
            rows = order[start : start + _ROWS_PER_RELEASE]
            block[rows] = self.X[index[rows]]
            release_pages(self.X)
        return block

    def chunks(self):
        for s in row_chunks(len(self)):
            yield self.take(s)

    def subset(self, rows):
        """The rows at positions ``rows`` of this dataset (itself possibly a subset)."""
        rows = np.asarray(rows)
        return ArrayDataset(self.X, self.prepare, self.device, rows if self.rows is None else self.rows[rows])

    def __getitem__(self, i):
        Xi = self.take(np.array([i]))[0]
        return Xi, Xi


class BatchIterator:
    """Yield ``(X_batch, X_batch)`` slices of a :class:`TensorDataset`.

    A drop-in for ``torch.utils.data.DataLoader`` that indexes the whole batch at
    once instead of collating rows one by one.

    Parameters
    ----------
    dataset : TensorDataset or ArrayDataset
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
        dataset = self.dataset
        n = len(dataset)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(dataset.index_device)
        else:
            order = None
        n_batches = len(self)
        for b in range(n_batches):
            start = b * self.batch_size
            stop = n if b == n_batches - 1 else start + self.batch_size
            Xb = dataset.take(slice(start, stop) if order is None else order[start:stop])
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
