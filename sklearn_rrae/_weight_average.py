"""Weight averaging: the validation rows, and the fitted model, see an average of the weights.

On small data the network overfits within a few dozen epochs, and the epoch the
early stopping keeps is the best of a noisy curve. An exponential average of the
weights over the optimizer's steps (Polyak averaging) is a smoother and better
model, and the early stopping chooses among averages. With a decay of 0.98 per
step (a horizon of about 50 steps), held-out MSE / PCA's on the panel's small rows
(``benchmarks/pca_panel.py``, medians (worst) of seeds 0-2, from those without
it): Olivetti k = 5 0.813 (0.833) from 0.874 (0.887), k = 20 0.839 (0.844) from
1.000 (1.000); diabetes k = 5 1.000 (1.000) from 1.000 (1.004), k = 2 0.927 from
0.978; breast cancer k = 2 0.781 from 0.810; the swiss roll 0.159 unchanged. A
uniform average since the first epoch reached Olivetti k = 5 0.804 but kept the
swiss roll at its PCA start (1.000), and a decay of 0.9 per epoch lost breast
cancer k = 2 (1.000); benchmarks/NOTES.md.
"""

import torch
from skorch.callbacks import Callback

DECAY = 0.98


class WeightAverage(Callback):
    """Validate (and end training with) an exponential average of the weights over the steps.

    After every training step the parameters are averaged in, ``decay`` the
    weight of the average so far (the first step's parameters start it). At
    the first validation batch of an epoch the average replaces the trained
    parameters in the module: the validation loss, the early stopping's choice
    and its copy of the best weights are the average's. The next epoch trains
    on from the trained parameters. A call ends with the average in the
    module; a next call (``n_init``'s kept start) trains on from it and
    averages anew. Without validation batches the module is never swapped.
    Buffers (a custom module's batch-norm statistics) are not averaged.
    """

    reads_batch_history = False  # TrainingNet's fast path: this callback reads no batch record

    def __init__(self, decay=DECAY):
        self.decay = decay

    def on_train_begin(self, net, **kwargs):
        self._params = None  # the module's parameters: the optimizer holds these tensors
        self._average = None
        self._trained = None  # the trained parameters' storage, while the average is in the module

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        with torch.no_grad():
            if self._average is None:
                self._params = list(net.module_.parameters())
                self._average = [p.detach().clone() for p in self._params]
            else:
                # One fused update: torch.optim.swa_utils.AveragedModel's update_parameters
                # cost 1.5 ms a step on the digits (0.90 s for 595 steps, in a 9.3 s training loop),
                # this 0.28 ms (0.165 s; cProfile of one digits fit at k = 5).
                torch._foreach_lerp_(self._average, self._params, 1 - self.decay)

    # The swaps exchange storage (``.data``) rather than copy values: the parameter
    # objects, which the optimizer and its state are keyed by, stay the same. A clone
    # and two copies of every parameter per epoch were 0.8 s of a 21 s profiled fit of
    # the two sines at k = 12 (1,000 one-batch epochs).
    def on_epoch_begin(self, net, **kwargs):
        if self._trained is not None:  # train on from the trained parameters, not the average
            for p, trained in zip(self._params, self._trained, strict=True):
                p.data = trained
            self._trained = None

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training or self._trained is not None or self._average is None:
            return
        self._trained = [p.data for p in self._params]
        for p, average in zip(self._params, self._average, strict=True):
            p.data = average

    def on_train_end(self, net, **kwargs):
        # The fitted net_ keeps (and pickles) neither the average nor the trained parameters.
        self._params = self._average = self._trained = None
