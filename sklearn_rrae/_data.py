"""The training data as skorch sees it: row holders and their batches.

Two holders share one interface (``len``, ``take(index)``, ``pair(index)``,
``chunks()``, ``subset(rows)``): :class:`DeviceRows` holds the whole scaled matrix as one
tensor on the training device (the fast path for data that fits), and
:class:`StreamedRows` reads rows from the caller's array (for instance a
``numpy.memmap``) batch by batch, scaling and moving each batch on its own.
Both give ``(X, X)`` pairs: the autoencoder's target is its input (the decoder's
second stage, ``_decoder_stage``, pairs codes with rows instead).
"""

import mmap
import sys

import numpy as np
import torch
from sklearn.utils import gen_batches

# Rows per chunk when scanning data outside training (scaling statistics, the basis,
# inference): keeps memory bounded whatever the number of samples.
CHUNK_ROWS = 8192
# Rows of a memory map read between two releases of its pages (StreamedRows).
_ROWS_PER_RELEASE = 16
# Training data whose scaled float32 copy is at most this large is scaled once and
# held as one tensor on the training device (one transfer to a GPU); larger data,
# e.g. a memmap, is read, scaled and moved batch by batch.
_WHOLE_TENSOR_MAX_BYTES = 256 * 2**20


# What a fit measures on its training data after training (the density of sample(),
# explained_variance_ratio_) uses at most this many rows, a random subset. MNIST-20k at
# k = 10: the default mixture took 1.6-2.5 s on all 20,000 codes, 0.31 s on 5,000
# (log-likelihood of all the codes -33.68 against -33.64); the ranks' errors 2.5 s on all
# rows (10 % of the fit), 6.6 s at k = 25.
SUMMARY_ROWS = 5000


def summary_rows(n_samples, seed):
    """The sorted rows of a fit's after-training summaries; None: all of them."""
    if n_samples <= SUMMARY_ROWS:
        return None
    return np.sort(np.random.RandomState(seed).choice(n_samples, SUMMARY_ROWS, replace=False))


def batches(n_samples, batch_size, min_batch_size=1):
    """The slices of an epoch's batches: a last batch under ``min_batch_size`` rows is merged."""
    return list(gen_batches(n_samples, min(batch_size, n_samples), min_batch_size=min_batch_size))


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
    for s in gen_batches(X.shape[0], chunk):
        yield X[s]
        release_pages(X)


def gather_rows(X, index, mapped=None):
    """``X[index]`` (``index``: an int array), without leaving a memory map's pages resident.

    A page fault on a file mapping maps a whole block of the page cache around
    the row read (about 1 MB per random row measured on Linux 6.18, whose page
    cache holds large folios): 5,000 random rows of a 200,000 x 784 memmap made
    all of its 627 MB resident. Rows of a shared file mapping are read in file
    order a few at a time, releasing the mapping in between. ``mapped``: whether
    ``X`` is one (None: look).
    """
    if mapped is None:
        mapped = _shared_file_mapping(X) is not None
    if not mapped:
        return X[index]
    order = np.argsort(index, kind="stable")
    block = np.empty((len(index), X.shape[1]), dtype=X.dtype)
    for start in range(0, len(index), _ROWS_PER_RELEASE):
        rows = order[start : start + _ROWS_PER_RELEASE]
        block[rows] = X[index[rows]]
        release_pages(X)
    return block


def to_device(array, device):
    """A float32 numpy array as a tensor on ``device``.

    To a GPU through pinned memory with a non-blocking copy, so the copy overlaps
    with the work already queued on the device.
    """
    tensor = torch.from_numpy(array)
    if torch.device(device).type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def training_rows(X, to_model, device):
    """``X`` in model units: one device tensor when it fits, else read batch by batch."""
    if X.shape[0] * X.shape[1] * 4 <= _WHOLE_TENSOR_MAX_BYTES:
        return DeviceRows(torch.from_numpy(to_model(X)).to(device))
    return StreamedRows(X, to_model, device)


class DeviceRows(torch.utils.data.Dataset):
    """The (already scaled, already on-device) training matrix, or some of its rows.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
    rows : torch.Tensor of int64 or None
        The rows of ``X`` this holder holds (a validation split, say); None: all.
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
        """Rows at positions ``index`` (a slice or an int64 tensor) of this holder."""
        return self.X[index] if self.rows is None else self.X[self.rows[index]]

    def pair(self, index):
        """``(input, target)`` of the batch at positions ``index``: the rows, twice."""
        Xb = self.take(index)
        return Xb, Xb

    def chunks(self):
        for s in gen_batches(len(self), CHUNK_ROWS):
            yield self.take(s)

    def subset(self, rows):
        """The rows at positions ``rows`` of this holder (itself possibly a subset)."""
        rows = torch.as_tensor(rows, device=self.X.device)
        return DeviceRows(self.X, rows if self.rows is None else self.rows[rows])

    def __getitem__(self, i):
        Xi = self.take(i)
        return Xi, Xi


class StreamedRows(torch.utils.data.Dataset):
    """Rows of a numpy array (a memmap, say), scaled and moved batch by batch.

    Only the rows of the current batch are ever copied, so the training data
    need not fit in memory; the pages of a memory map are released as they are
    read (:func:`release_pages`).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Data units; never modified.
    to_model : callable
        Rows of ``X`` to model units, as a new float32 array.
    device : str
    rows : ndarray of int or None
        The rows of ``X`` this holder holds; None: all.
    """

    def __init__(self, X, to_model, device, rows=None):
        self.X = X
        self.to_model = to_model
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
        return to_device(self.to_model(block), self.device)

    def pair(self, index):
        """``(input, target)`` of the batch at positions ``index``: the rows, twice."""
        Xb = self.take(index)
        return Xb, Xb

    def _gather(self, index):
        return gather_rows(self.X, index, self._mapped)

    def chunks(self):
        for s in gen_batches(len(self), CHUNK_ROWS):
            yield self.take(s)

    def subset(self, rows):
        """The rows at positions ``rows`` of this holder (itself possibly a subset)."""
        rows = np.asarray(rows)
        return StreamedRows(
            self.X, self.to_model, self.device, rows if self.rows is None else self.rows[rows]
        )

    def __getitem__(self, i):
        Xi = self.take(np.array([i]))[0]
        return Xi, Xi


class BatchIterator:
    """Yield ``dataset.pair(batch)`` (``(X_batch, X_batch)``) for each batch of a row holder.

    A drop-in for ``torch.utils.data.DataLoader`` that indexes the whole batch at
    once instead of collating rows one by one.

    Parameters
    ----------
    dataset : DeviceRows, StreamedRows or another holder with ``pair``
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

    def _slices(self):
        return batches(len(self.dataset), self.batch_size, self.min_batch_size)

    def __len__(self):
        return len(self._slices())

    def __iter__(self):
        dataset = self.dataset
        order = None
        if self.shuffle:
            order = torch.randperm(len(dataset), generator=self.generator).to(dataset.index_device)
        for s in self._slices():
            yield dataset.pair(s if order is None else order[s])
