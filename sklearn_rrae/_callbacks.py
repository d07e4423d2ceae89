"""The estimators' own skorch callbacks; they talk to the others through ``net.history``.

``RankSchedule`` (adaptive rank) records ``rank_settled`` in each epoch's row;
:class:`ValidationEarlyStopping` reads it there and records the epoch whose
weights it keeps as ``best_epoch``, which the estimator reads in turn.
"""

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping


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


class DataUnitsLoss(Callback):
    """Record each epoch's losses in the units of ``X``: ``train_mse`` (and ``valid_mse``).

    skorch's ``train_loss`` / ``valid_loss`` are in model units (the data divided
    by one global scale); the estimator's ``loss_curve_`` and ``validation_scores_``
    are read from these records, and the printed table (``verbose=1``) shows them.
    """

    def __init__(self, to_data_units):
        self.to_data_units = to_data_units

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key, name in (("train_loss", "train_mse"), ("valid_loss", "valid_mse")):
            if key in row:
                with np.errstate(over="ignore"):  # data near the float64 limit: inf, not an exception
                    net.history.record(name, float(row[key] * self.to_data_units))


# History keys that are not for the printed table: model-unit losses (the data-unit
# ones are printed instead) and what callbacks record for each other.
PRINT_IGNORED = [
    "train_loss",
    "valid_loss",
    "rank_settled",
    "rank_target",
    "rank_changes",
    "best_epoch",
    "init_scores",
]


class ValidationEarlyStopping(EarlyStopping):
    """``MLPRegressor``'s rule on the validation loss, as skorch's ``EarlyStopping``.

    Stop when the validation loss has not improved by ``tol`` (absolute) within
    ``n_iter_no_change`` epochs, and go back to the weights of the best epoch.
    Two differences, both read from the history row of the epoch:

    - an epoch without ``valid_loss`` (a ``partial_fit`` call continuing a net
      fitted with early stopping: no validation data) is not counted;
    - while ``rank_settled`` is False (a rank schedule still changes the rank),
      the validation loss jumps at every pruning and the best weights would be
      of another rank, so the count, the best score and the best weights start
      over.

    Each counted epoch records ``best_epoch``: the epoch whose weights training
    ends with (0 for none: the last epoch's).
    """

    def __init__(self, patience, tol):
        self.tol = tol  # skorch's get_params reads the constructor's arguments back
        super().__init__(
            monitor="valid_loss", patience=patience, threshold=tol, threshold_mode="abs", load_best=True
        )

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if "valid_loss" not in row:
            return
        if not row.get("rank_settled", True):
            self.on_train_begin(net)
            net.history.record("best_epoch", self.best_epoch_)
            return
        try:
            super().on_epoch_end(net, **kwargs)
        finally:  # it raises KeyboardInterrupt to stop training
            net.history.record("best_epoch", self.best_epoch_)
