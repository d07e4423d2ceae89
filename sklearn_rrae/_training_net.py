"""skorch's ``NeuralNet`` with a training step that neither waits on the device nor walks every callback.

skorch's own loop, per batch: reads the loss back as a Python float (a host
round trip on a GPU), records it and the batch size in the history, calls the
three batch hooks of every callback (most of them empty) and sets the
module and the criterion to training mode again. On the CPU at a tiny
network that was 15 % of a step over a hand-written loop
(``benchmarks/throughput.py``); on a GPU the read makes every step wait for
the one before.

:class:`TrainingNet` keeps the loop and its public surface (one history row per
epoch with its ``batches``, every callback hook) and changes when things happen:

- each batch's loss stays on the device; the epoch's losses are read in one
  transfer at its end and recorded in the history then, batch by batch, as
  skorch would have;
- a batch hook is called only on the callbacks that define it;
- when a callback with a batch hook does not declare that it reads no batch
  history during the epoch (``reads_batch_history = False``, as the package's own
  do), for instance skorch's ``ProgressBar`` with ``verbose=1`` or a user's
  callback, the epoch runs as skorch runs it;
- the modules change mode only when they are not already in it.
"""

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import get_len
from skorch.utils import TeeGenerator


def _defines(callback, hook):
    """Whether ``callback`` does something in ``hook`` (not skorch's empty default)."""
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)


class TrainingNet(NeuralNet):
    """A ``NeuralNet`` whose epochs read the batch losses once, at their end."""

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        callbacks = [cb for _, cb in self.callbacks_]
        begin = [cb for cb in callbacks if _defines(cb, "on_batch_begin")]
        end = [cb for cb in callbacks if _defines(cb, "on_batch_end")]
        if any(getattr(cb, "reads_batch_history", True) for cb in begin + end):
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        self._grad_callbacks = [cb for cb in callbacks if _defines(cb, "on_grad_computed")]
        # The losses go into one tensor on the device, not a tensor kept per step: a
        # small allocation that lives to the epoch's end, made between the large ones
        # a step frees, splits them for the next step (glibc), and the heap grew by
        # 0.9 MB a step. A fit of one epoch on a 627 MB memmap peaked at 1,403 MB
        # against 702 MB for a 31 MB one; with this buffer 736 against 739
        # (benchmarks/memmap_memory.py, benchmarks/NOTES.md).
        losses, sizes = None, []
        try:
            for batch in iterator:
                for cb in begin:
                    cb.on_batch_begin(self, batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                if losses is None:
                    expected = len(iterator) if hasattr(iterator, "__len__") else 16
                    losses = step["loss"].new_empty(max(expected, 1))
                elif len(sizes) == len(losses):  # more batches than the iterator announced
                    losses = torch.cat([losses, torch.empty_like(losses)])
                losses[len(sizes)] = step["loss"].detach()
                sizes.append(get_len(batch[0]) if isinstance(batch, (tuple, list)) else get_len(batch))
                for cb in end:
                    cb.on_batch_end(self, batch=batch, training=training, **step)
        finally:
            self._grad_callbacks = None
        values = losses[: len(sizes)].tolist() if sizes else []  # the epoch's one read
        for loss, size in zip(values, sizes, strict=True):
            self.history.new_batch()
            self.history.record_batch(prefix + "_loss", loss)
            self.history.record_batch(prefix + "_batch_size", size)
        self.history.record(prefix + "_batch_count", len(values))

    def train_step(self, batch, **fit_params):
        grad_callbacks = getattr(self, "_grad_callbacks", None)
        if grad_callbacks is None:  # called outside run_single_epoch's fast path
            return super().train_step(batch, **fit_params)
        accumulator = self.get_train_step_accumulator()

        def step_fn():
            self._zero_grad_optimizer()
            step = self.train_step_single(batch, **fit_params)
            accumulator.store_step(step)
            if grad_callbacks:
                named = TeeGenerator(self.get_all_learnable_params())
                for cb in grad_callbacks:
                    cb.on_grad_computed(self, named_parameters=named, batch=batch, training=True)
            return step["loss"]

        self._step_optimizer(step_fn)
        return accumulator.get_step()

    def _set_training(self, training=True):
        # module.train() walks every submodule; skorch calls it on every training step.
        modules = [getattr(self, name + "_") for name in self._modules + self._criteria]
        if all(m.training is training for m in modules if isinstance(m, torch.nn.Module)):
            return
        super()._set_training(training)
