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

from copy import deepcopy

from skorch.callbacks import Callback
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

DECAY = 0.98


class WeightAverage(Callback):
    """Validate (and end training with) an exponential average of the weights over the steps.

    After every training step the weights are averaged in, ``decay`` the
    weight of the average so far. At the first validation batch of an epoch the
    average replaces the trained weights in the module: the validation loss, the
    early stopping's choice and its copy of the best weights are the average's.
    The next epoch trains on from the trained weights. A call ends with the
    average in the module; a next call (``n_init``'s kept start) trains on from
    it and averages anew. Without validation batches the module is never
    swapped.
    """

    reads_batch_history = False  # TrainingNet's fast path: this callback reads no batch record

    def __init__(self, decay=DECAY):
        self.decay = decay

    def on_train_begin(self, net, **kwargs):
        self._average = None
        self._trained = None  # the weights training goes on from, while the average is in the module

    def on_epoch_begin(self, net, **kwargs):
        if self._trained is not None:
            net.module_.load_state_dict(self._trained)
            self._trained = None

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        if self._average is None:
            self._average = AveragedModel(
                net.module_, use_buffers=True, multi_avg_fn=get_ema_multi_avg_fn(self.decay)
            )
        self._average.update_parameters(net.module_)  # the first call copies

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training or self._trained is not None or self._average is None:
            return
        self._trained = deepcopy(net.module_.state_dict())
        net.module_.load_state_dict(self._average.module.state_dict())

    def on_train_end(self, net, **kwargs):
        # The fitted net_ keeps (and pickles) neither the average's copy nor the trained weights.
        self._average = self._trained = None
