"""The estimators' own skorch callbacks; they talk to the others through ``net.history``.

``RankSchedule`` (adaptive rank) records ``rank_settled`` in each epoch's row;
:class:`ValidationEarlyStopping` reads it there and records the epoch whose
weights it keeps as ``best_epoch``, which the estimator reads in turn.
"""

from copy import deepcopy

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping

from ._distributed import all_max, in_process_group


class TrainingDivergedError(ValueError, FloatingPointError):
    """Raised when the training loss stops being finite."""


# A batch loss above this, in model units (where predicting the mean costs about
# 1), is divergence: at lr=1e6 from the PCA start the loss stayed finite, 1e20 to
# 1e25 for 20 epochs, and the fit returned garbage without an error.
_DIVERGED_LOSS = 1e6


class DivergenceGuard(Callback):
    """Stop training with a clear error when an epoch's batch loss is not finite or absurd.

    Without it, the fit would go on with NaN weights (or return a model a million
    times worse than the data's mean). It reads the epoch's batch losses from the
    history at the epoch's end, after their one transfer from the device
    (:class:`~sklearn_rrae._training_net.TrainingNet`); a non-finite latent met
    within the epoch makes the eigensolver raise first, which the estimator
    reports as the same error.
    """

    def on_epoch_end(self, net, **kwargs):
        keys = ("train_loss", "valid_loss")
        losses = (batch.get(key) for batch in net.history[-1, "batches"] for key in keys)
        # NaN and inf fail the comparison too.
        diverged = next((loss for loss in losses if loss is not None and not loss < _DIVERGED_LOSS), None)
        # In a process group each process reads its own shard's losses; one that raised
        # alone would leave the others waiting for it in the next step's all_reduce, so
        # every process takes part in the decision (one all_reduce per epoch).
        if in_process_group() and all_max(diverged is not None) and diverged is None:
            diverged = "not finite or absurd on another process"
        if diverged is not None:
            raise TrainingDivergedError(
                f"Training diverged at epoch {len(net.history)}: the loss became {diverged}. "
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
        pairs = (
            ("train_loss", "train_mse"),
            ("valid_loss", "valid_mse"),
            ("start_valid_loss", "start_valid_mse"),
        )
        for key, name in pairs:
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
    "rank_warning",
    "best_epoch",
    "init_scores",
    "start_valid_loss",
    "start_valid_mse",
]


# The trained model replaces the PCA start only if its validation error is lower
# by at least this many standard errors of the per-row difference (a paired,
# one-sided test at about 2.3 %): on diabetes (31 validation rows) a 15 % lower
# validation MSE came with a 4.7 % higher held-out MSE than PCA's.
_START_MARGIN_SE = 2.0


def best_weights(module, previous, start=None):
    """A copy of ``module``'s state dict, written into ``previous``'s tensors where they fit.

    ``previous`` (the last copy, or None) is reused unless it is ``start`` (the
    start's weights, still needed) or its tensors no longer match the module's.
    """
    state = module.state_dict()
    reusable = (
        previous is not None
        and previous is not start
        and previous.keys() == state.keys()
        and all(previous[k].shape == v.shape and previous[k].dtype == v.dtype for k, v in state.items())
    )
    if not reusable:
        return {k: v.detach().clone() for k, v in state.items()}
    with torch.no_grad():
        torch._foreach_copy_(list(previous.values()), list(state.values()))
    return previous


def row_errors(net, dataset):
    """Each validation row's mean squared error under ``net``'s module as it is (model units)."""
    errors = []
    for batch in net.get_iterator(dataset, training=False):
        y_pred = net.evaluation_step(batch, training=False)
        errors.append(((y_pred - batch[1]) ** 2).mean(dim=1).detach().cpu().double().numpy())
    return np.concatenate(errors)


def keep_start_unless_beaten(net, rows, start_errors, start_weights):
    """Load ``start_weights`` back unless ``net``'s module :func:`beats` ``start_errors`` on ``rows``.

    Returns whether the start came back. The one decision of both start tests:
    the validation rows' (:class:`ValidationEarlyStopping`) and the training rows'
    (:class:`TrainingRowsStartCheck`).
    """
    kept = not beats(row_errors(net, rows), start_errors)
    if kept:
        net.module_.load_state_dict(start_weights)
    return kept


def beats(errors, reference, margin=_START_MARGIN_SE):
    """Whether per-row ``errors`` are lower than ``reference``'s by ``margin`` standard errors."""
    difference = reference - errors
    if len(difference) < 2:
        return bool(difference.mean() > 0)
    standard_error = difference.std(ddof=1) / np.sqrt(len(difference))
    return bool(difference.mean() > margin * standard_error)


class ValidationEarlyStopping(EarlyStopping):
    """``MLPRegressor``'s rule on the validation loss, as skorch's ``EarlyStopping``.

    Stop when the validation loss has not improved by a fraction ``tol`` of the
    best so far within ``n_iter_no_change`` epochs, and go back to the weights of
    the best epoch. Differences, all read from or written to the history:

    - with ``score_start``, the module as it is before the first epoch (the PCA
      start) is a candidate too: its loss is recorded as ``start_valid_loss`` in
      the first epoch's row, an epoch must beat it to count as an improvement, and
      when training ends the best epoch replaces the start only if it beats it
      row by row beyond noise (:func:`beats`); else training ends at the start;
    - an epoch without ``valid_loss`` (a ``partial_fit`` call continuing a net
      fitted with early stopping: no validation data) is not counted;
    - while ``rank_settled`` is False (a rank schedule still changes the rank),
      the validation loss jumps at every pruning and the best weights would be
      of another rank, so the count, the best score and the best weights start
      over;
    - a net trained in several calls with its validation rows (``n_init``'s
      starts) keeps its count and its best weights from call to call; a call
      without them (``partial_fit``) starts over, and counts nothing.

    Each counted epoch records ``best_epoch``: the epoch whose weights training
    ends with (0: the start).
    """

    def __init__(self, patience, tol, score_start=False):
        self.tol = tol  # skorch's get_params reads the constructor's arguments back
        self.score_start = score_start
        super().__init__(
            monitor="valid_loss", patience=patience, threshold=tol, threshold_mode="rel", load_best=True
        )

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if len(net.history) and hasattr(self, "best_epoch_") and net.train_split is not None:
            return  # a later call on the same net, with its validation rows: training goes on
        super().on_train_begin(net, **kwargs)
        self.start_loss_ = self.start_weights_ = None
        if self.score_start and X is not None:
            _, valid = net.get_split_datasets(X, y)
            if valid is not None:
                # One pass: the mean of the rows' errors is the loss skorch averages.
                self.start_errors_ = row_errors(net, valid)
                self.start_loss_ = float(np.mean(self.start_errors_))
                self.dynamic_threshold_ = self._calc_new_threshold(self.start_loss_)
                self.best_model_weights_ = deepcopy(net.module_.state_dict())
                self.start_weights_ = self.best_model_weights_

    def on_epoch_begin(self, net, **kwargs):
        if self.start_loss_ is not None and len(net.history) == 1:
            net.history.record("start_valid_loss", self.start_loss_)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if "valid_loss" not in row:
            return
        if not row.get("rank_settled", True):
            super().on_train_begin(net)
            self.start_loss_ = None
            net.history.record("best_epoch", len(net.history))  # none kept: the last epoch's weights
            return
        # skorch deep-copies the state dict at every improvement: 1.2 s of a 21 s
        # profiled fit of the two sines at k = 12 (1,000 one-batch epochs, 616
        # improvements); copied into the same tensors instead (best_weights), 0.3 s.
        load_best, self.load_best = self.load_best, False
        try:
            previous_best = self.best_epoch_
            super().on_epoch_end(net, **kwargs)
        finally:  # it raises KeyboardInterrupt to stop training
            self.load_best = load_best
            if self.best_epoch_ != previous_best and load_best:
                self.best_model_weights_ = best_weights(
                    net.module_, self.best_model_weights_, self.start_weights_
                )
            net.history.record("best_epoch", self.best_epoch_)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        # A call that ends before training does (n_init's trial epochs) keeps its
        # last weights: the next call trains on from them.
        finished = self.misses_ >= self.patience or len(net.history) >= net.max_epochs
        if not finished:
            return
        super().on_train_end(net, **kwargs)  # the best epoch's weights
        if self.start_loss_ is None:
            return
        if self.best_epoch_ != 0:
            _, valid = net.get_split_datasets(X, y)
            if keep_start_unless_beaten(net, valid, self.start_errors_, self.start_weights_):
                self.best_epoch_ = 0
                net.history.record("best_epoch", 0)
                self._sink(
                    "Going back to the start (epoch 0): the best epoch does not beat it on the "
                    "validation rows beyond noise.",
                    verbose=net.verbose,
                )
        self.start_weights_ = self.start_errors_ = None  # the fitted net_ keeps no copy


class TrainingRowsStartCheck(Callback):
    """Without validation rows, keep the PCA start unless training beats it on the training rows.

    Without validation rows (``early_stopping=False``, or fewer than 10 of
    them with ``"auto"``) nothing else judges the trained model against its
    start: on wine's 178 rows resampled with jitter to 14,000 (one feature's
    variance 10^5 times another's), when that many rows trained without
    validation (the default up to 2026-12-07), the first epoch took the model
    to 1.9 x PCA's training MSE and 20 epochs left it at 1.7 x (held-out
    1.65 x; benchmarks/NOTES.md). Where a model is worse
    than PCA on the rows it was trained on, it is worse, so those rows can judge
    this. ``rows`` (at most ``SUMMARY_ROWS`` of them) are scored before the first
    epoch and when training has run all its epochs; the trained model is kept
    only if it :func:`beats` the start there, else the start's weights come back
    and ``start_kept`` is recorded True in the last history row (False
    otherwise). A call that ends before training does (``n_init``'s trial
    epochs) decides nothing.
    """

    def __init__(self, rows):
        self.rows = rows

    def on_train_begin(self, net, **kwargs):
        if len(net.history) == 0:
            self.start_errors_ = row_errors(net, self.rows)
            self.start_weights_ = deepcopy(net.module_.state_dict())

    def on_train_end(self, net, **kwargs):
        if len(net.history) < net.max_epochs or getattr(self, "start_weights_", None) is None:
            return
        kept = keep_start_unless_beaten(net, self.rows, self.start_errors_, self.start_weights_)
        net.history.record("start_kept", kept)
        # The fitted net_ keeps (and pickles) neither a copy of the weights nor the rows.
        self.start_weights_ = self.start_errors_ = self.rows = None
