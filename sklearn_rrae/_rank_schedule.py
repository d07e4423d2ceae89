"""The rank schedule of the adaptive RRAE: a skorch callback that prunes the rank as it trains."""

import copy
import math

import numpy as np
from skorch.callbacks import Callback


class RankSchedule(Callback):
    """Prune the rank of a running RRAE while it keeps its accuracy (skorch callback).

    The three phases of the adaptive RRAE (the aRRAE of Mounayer et al.), decided
    on the training loss after every batch, within a budget of ``total_steps``:

    1. **start**: train at ``start_rank`` until the loss stagnates, or for a
       quarter of the budget. The loss reached then, plus ``tolerance``, is the
       target.
    2. **prune**: whenever the mean loss of the last ``settle`` steps is at or
       below the target, keep a copy of the weights and optimizer state (in
       memory) and drop the least important modes. One mode at a time, except
       that the step doubles after each success (1, 2, 4, ... modes, at most half
       the rank), so that a start rank of 64 costs a handful of trials instead of
       60. When a rank cannot reach the target (at its current rate of
       improvement per window it would need more than ``horizon`` windows,
       ``patience`` windows in a row), go back to the last rank that reached
       it, with its saved state, and stop pruning. A multi-mode step gets
       ``window * patience`` steps to reach the target; if it does not, go back
       and resume one mode at a time. This phase gets at most half of the
       budget.
    3. **final**: train at the rank found for the rest of the budget, or until
       the loss stagnates; training stops at the end of that epoch.

    The loss is the model's MSE on data scaled to unit mean feature variance, so
    ``tolerance`` is a fraction of the data's variance. A loss *stagnates* when the
    mean over a window of ``window`` steps improves on the previous window's by
    less than a fraction ``stall`` of it, ``patience`` windows in a row.

    Parameters
    ----------
    start_rank : int
        Rank of the batch truncation when training starts.
    total_steps : int
        Optimizer steps for the whole fit (``max_epochs`` times the batches per
        epoch).
    tolerance : float, default=0.01
        A rank keeps the accuracy when its loss is within this fraction of the data
        variance of the start rank's loss.
    window : int, default=20
        Steps per stagnation window (the reference's value).
    settle : int, default=5
        Steps averaged after a pruning before the new rank is judged.
    stall : float, default=0.01
        Relative improvement per window below which a loss stagnates (start and
        final phases).
    horizon : int, default=10
        Windows within which a pruned rank must be on course to reach the target.
    patience : int, default=3
        Windows in a row that end a phase or reject a rank.
    sufficient_steps : int or None, default=None
        A budget the target can be trusted at (the estimator's
        ``max_epochs="auto"``). When ``total_steps`` is below it and the start
        phase ends on its quarter of the budget before the loss stagnates, a
        :class:`~sklearn.exceptions.ConvergenceWarning` says that the target was
        set on an undertrained start rank (recorded as ``rank_warning``, see
        Notes): every rank then reaches it sooner,
        and the rank found is too low (the digits: 6 at 60 epochs, 8 at 120, 9
        at 200, 12 at the default 400 and at 800, 13 at 1600).

    Attributes
    ----------
    history_ : list of (epoch, rank, loss)
        Every change of rank, with the mean training loss (model units) that
        decided it; the first entry is the start rank, with a NaN loss.
    target_ : float
        The loss a rank must reach to be kept (model units).

    Notes
    -----
    At the end of every epoch the schedule writes to that epoch's row of
    ``net.history``: ``rank`` (the rank the epoch ended at), ``rank_settled``
    (whether the final phase has begun: other callbacks, such as the
    estimators' early stopping, read it there), ``rank_target`` (``target_``,
    None before it is set), ``rank_changes`` (the entries of ``history_``
    added during the epoch) and ``rank_warning`` (what the estimator warns
    of, or None; see ``sufficient_steps``).

    See Also
    --------
    AdaptiveRRAETransformer : The estimator that adds this callback to its training.

    Examples
    --------
    :class:`AdaptiveRRAETransformer` builds the schedule; the fitted net's
    history holds what it recorded.

    >>> from sklearn_rrae import AdaptiveRRAETransformer
    >>> from sklearn_rrae.datasets import make_shifted_sine
    >>> X, _, _, _ = make_shifted_sine(random_state=0)
    >>> model = AdaptiveRRAETransformer(max_epochs=30, random_state=0).fit(X)
    >>> model.net_.history[-1, "rank"] == model.n_components_
    True
    """

    reads_batch_history = False  # each batch's loss comes as its hook's argument (TrainingNet)

    def __init__(
        self,
        start_rank,
        total_steps,
        tolerance=0.01,
        window=20,
        settle=5,
        stall=0.01,
        horizon=10,
        patience=3,
        sufficient_steps=None,
    ):
        self.start_rank = start_rank
        self.total_steps = total_steps
        self.tolerance = tolerance
        self.window = window
        self.settle = settle
        self.stall = stall
        self.horizon = horizon
        self.patience = patience
        self.sufficient_steps = sufficient_steps

    def initialize(self):
        self.history_ = []
        self.target_ = None
        return self

    # -- state ------------------------------------------------------------------

    def on_train_begin(self, net, **kwargs):
        self._recorded = len(self.history_)
        self._warning = None
        self._saved = None
        self._step = 1
        self._done = False
        self._enter("start", self.total_steps // 4)
        self._set_rank(net, self.start_rank)
        self.history_.append((0, self.start_rank, math.nan))

    def _enter(self, phase, steps):
        self._phase = phase
        self._phase_steps_left = max(1, steps)

    def _set_rank(self, net, rank, loss=None):
        net.module_.n_components = rank
        self._losses = []  # losses at the current rank
        self._stalled = 0
        if loss is not None:
            self.history_.append((len(net.history), rank, float(loss)))

    def _save(self, net):
        self._saved = (
            net.module_.n_components,
            copy.deepcopy(net.module_.state_dict()),
            copy.deepcopy(net.optimizer_.state_dict()),
        )

    def _restore(self, net, loss):
        rank, module_state, optimizer_state = self._saved
        net.module_.load_state_dict(module_state)
        net.optimizer_.load_state_dict(optimizer_state)
        self._set_rank(net, rank, loss)

    # -- decisions ----------------------------------------------------------------

    def _window_means(self):
        """(previous, current) window means at a window boundary, else None."""
        w, losses = self.window, self._losses
        if len(losses) < 2 * w or len(losses) % w:
            return None
        return float(np.mean(losses[-2 * w : -w])), float(np.mean(losses[-w:]))

    def _count(self, stalled):
        self._stalled = self._stalled + 1 if stalled else 0
        return self._stalled >= self.patience

    def _stagnating(self):
        """True once ``patience`` windows in a row improved by less than ``stall``."""
        means = self._window_means()
        if means is None:
            return False
        previous, current = means
        return self._count(previous - current < self.stall * previous)

    def _hopeless(self):
        """True once ``patience`` windows in a row say the target is out of reach.

        At the current rate of improvement per window, reaching the target would
        take more than ``horizon`` windows.
        """
        means = self._window_means()
        if means is None:
            return False
        previous, current = means
        rate = (previous - current) / previous
        if current <= self.target_:
            windows_needed = 0.0
        elif rate <= 0:
            windows_needed = math.inf
        else:
            windows_needed = math.log(self.target_ / current) / math.log1p(-min(rate, 0.999))
        return self._count(windows_needed > self.horizon)

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if not training or self._done:
            return
        self._losses.append(loss.item())
        self._phase_steps_left -= 1
        out_of_steps = self._phase_steps_left <= 0
        if self._phase == "start":
            stagnating = self._stagnating()
            if stagnating or out_of_steps:
                if not stagnating:
                    self._warn_if_undertrained(len(self._losses))
                reached = float(np.mean(self._losses[-self.window :]))
                self.target_ = reached + self.tolerance
                self._save(net)
                self._enter("prune", self.total_steps // 2)
                self._prune(net, reached)
        elif self._phase == "prune":
            recent = float(np.mean(self._losses[-self.settle :]))
            multi_mode = self._saved[0] - net.module_.n_components > 1
            if len(self._losses) >= self.settle and recent <= self.target_:
                self._save(net)
                self._prune(net, recent)
                self._step = min(2 * self._step, max(1, net.module_.n_components // 2))
            elif (
                self._hopeless()
                or out_of_steps
                or (multi_mode and len(self._losses) >= self.window * self.patience)
            ):
                self._reject(net, recent, multi_mode)
        elif self._stagnating() or out_of_steps:
            self._done = True

    def _warn_if_undertrained(self, steps):
        if self.sufficient_steps is None or self.total_steps >= self.sufficient_steps:
            return
        self._warning = (
            f"the rank schedule set its target after {steps} step{'s' * (steps != 1)} at the start "
            f"rank {self.start_rank}, before the loss there stagnated: max_epochs gives "
            f"{self.total_steps} steps, fewer than the {self.sufficient_steps} of "
            f"max_epochs='auto'. The rank found may be too low; raise max_epochs."
        )

    def _prune(self, net, loss):
        rank = net.module_.n_components
        if rank == 1:
            self._finish()
            return
        self._set_rank(net, max(1, rank - self._step), loss)

    def _reject(self, net, loss, multi_mode):
        self._restore(net, loss)
        if multi_mode and self._phase_steps_left > 0:
            self._step = 1
            self._prune(net, loss)
        else:
            self._finish()

    def _finish(self):
        self._enter("final", self.total_steps)  # the rest of the budget (max_epochs ends it)

    def on_epoch_end(self, net, **kwargs):
        # What the estimator and the early stopping read, in this epoch's history row.
        net.history.record("rank", net.module_.n_components)
        net.history.record("rank_settled", self._phase == "final")
        net.history.record("rank_target", self.target_)
        net.history.record("rank_changes", self.history_[self._recorded :])
        net.history.record("rank_warning", self._warning)
        self._recorded = len(self.history_)
        self._warning = None
        if self._done:
            raise KeyboardInterrupt  # how skorch callbacks end training
