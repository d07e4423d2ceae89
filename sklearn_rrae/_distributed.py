"""Data-parallel fit inside a ``torch.distributed`` process group: one model, every shard.

When ``fit`` runs inside an initialised process group (torchrun, Ray Train, a
SLURM job) each process passes its own rows. Plain data parallelism (each
process truncating its own shard's latent) would change the model with the
number of processes, so every step truncates the *global* batch latent
exactly: the latent Gram matrix ``Z^T Z`` (L x L) is summed across processes
before its eigendecomposition, each process projects its own rows, and the
backward pass sums the one k x L matrix through which a row's gradient
depends on the other processes' rows. Gradients are then averaged
(:class:`AverageGradients`), the epoch's loss too (:class:`GlobalEpochLoss`),
and the statistics of the whole fit (scaling, PCA start, basis, explained
variance, the density's codes) are reduced over all shards, so that every
process ends with the same estimator. Outside a process group (or in one of
a single process) none of this runs.
"""

import numpy as np
import torch
import torch.distributed as dist
from skorch.callbacks import Callback

from ._truncation import _RankTruncate, gram_eigh, rank_truncate


def in_process_group():
    """Whether this process trains one shard among several (a default group of size > 1)."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _reduce(tensor, op=None):
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM if op is None else op)
    return tensor


def all_sum(value):
    """The sum over all processes of a float64 array (or scalar), as numpy."""
    tensor = torch.as_tensor(np.asarray(value, dtype=np.float64)).clone()
    return _reduce(tensor).numpy()


def all_max(value):
    """The maximum over all processes of a float."""
    return float(_reduce(torch.tensor(float(value), dtype=torch.float64), dist.ReduceOp.MAX))


def all_gather(obj):
    """Every process's ``obj``, in rank order (small objects: shapes, summary codes)."""
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


def broadcast(value):
    """Rank 0's ``value`` (a picklable object) on every process."""
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def sum_gram(gram):
    """A Gram matrix (a torch tensor) summed over every process's rows."""
    return _reduce(gram)


def global_rank_truncate(Y, k):
    """:func:`~sklearn_rrae._truncation.rank_truncate` of the global batch, this process's rows.

    Outside a process group it is ``rank_truncate`` itself (a net fitted in a
    group and continued alone, say).
    """
    if not in_process_group():
        return rank_truncate(Y, k)
    if k >= Y.shape[1]:
        return Y
    # The latent side (L x L) whatever the shard's rows: it is what sums over processes.
    return _RankTruncate.apply(Y, k, gram_eigh, _reduce)


class AverageGradients(Callback):
    """Average the gradients over the processes before each optimizer step (one ``all_reduce``)."""

    def on_grad_computed(self, net, named_parameters, **kwargs):
        if not in_process_group():
            return
        grads = [p.grad for _, p in named_parameters if p.grad is not None]
        if not grads:
            return
        flat = _reduce(torch.cat([g.reshape(-1) for g in grads]))
        flat /= dist.get_world_size()
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()


class GlobalEpochLoss(Callback):
    """Replace the epoch's ``train_loss`` by the mean over every process's rows.

    skorch averages the batch losses of this process's rows; the history (and
    with it ``loss_curve_``) must be the same on every process.
    """

    def on_epoch_end(self, net, **kwargs):
        if not in_process_group():
            return
        batches = net.history[-1, "batches"]
        rows = sum(b["train_batch_size"] for b in batches if "train_loss" in b)
        total = sum(b["train_loss"] * b["train_batch_size"] for b in batches if "train_loss" in b)
        total, rows = all_sum([total, rows])
        net.history.record("train_loss", float(total / rows))
