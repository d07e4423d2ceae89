"""The adaptive-rank RRAE: the rank is found during training by a skorch callback."""

import copy
import math
import numbers

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.callbacks import Callback, EarlyStopping

from ._base import BaseRRAE

# max_components="auto": at most this many modes to start from.
_AUTO_MAX_COMPONENTS = 64


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

    Attributes
    ----------
    history_ : list of (epoch, rank, loss)
        Every change of rank, with the mean training loss (model units) that
        decided it; the first entry is the start rank, with a NaN loss.
    target_ : float
        The loss a rank must reach to be kept (model units).

    See Also
    --------
    AdaptiveRRAETransformer : The estimator that adds this callback to its training.

    Examples
    --------
    :class:`AdaptiveRRAETransformer` builds the schedule; the fitted net keeps it.

    >>> from sklearn_rrae import AdaptiveRRAETransformer
    >>> from sklearn_rrae.datasets import make_shifted_sine
    >>> X, _, _, _ = make_shifted_sine(random_state=0)
    >>> model = AdaptiveRRAETransformer(max_epochs=30, random_state=0).fit(X)
    >>> schedule = dict(model.net_.callbacks_)["rank_schedule"]
    >>> schedule.history_[-1][1] == model.n_components_
    True
    """

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
    ):
        self.start_rank = start_rank
        self.total_steps = total_steps
        self.tolerance = tolerance
        self.window = window
        self.settle = settle
        self.stall = stall
        self.horizon = horizon
        self.patience = patience

    def initialize(self):
        self.history_ = []
        self.target_ = None
        return self

    # -- state ------------------------------------------------------------------

    def on_train_begin(self, net, **kwargs):
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
            if self._stagnating() or out_of_steps:
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
        if self._done:
            raise KeyboardInterrupt  # how skorch callbacks end training

    @property
    def at_final_rank(self):
        """True once the rank is settled (the final phase)."""
        return self._phase == "final"


class FinalRankEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` that only counts epochs at the final rank.

    While :class:`RankSchedule` still changes the rank, the validation loss jumps
    at every pruning and restoring the best weights would bring back weights of
    another rank; so the count, the best score and the best weights are reset
    at every epoch before the final phase.
    """

    def on_epoch_end(self, net, **kwargs):
        if not dict(net.callbacks_)["rank_schedule"].at_final_rank:
            self.on_train_begin(net)
            return
        super().on_epoch_end(net, **kwargs)


class AdaptiveRRAETransformer(BaseRRAE):
    """Rank Reduction Autoencoder that finds its rank while it trains.

    Same model and API as :class:`RRAETransformer`, without ``n_components``:
    training starts at a large rank ``max_components`` and prunes the least
    important latent mode whenever the model has recovered the accuracy it had
    at the start rank, going back to the last rank that reached it when a rank
    cannot (Mounayer et al., *Rank Reduction Autoencoders*, the aRRAE). The
    schedule is the skorch callback :class:`RankSchedule`, so it composes with
    any other callback.

    Parameters
    ----------
    max_components : int or "auto", default="auto"
        Rank to start from. "auto" is ``min(64, latent_dim, batch - 1,
        n_features)`` where ``batch`` is the effective batch size (the batch
        latent of ``batch`` rows has rank at most ``batch``).

    latent_dim : int, default=128
        Length ``L`` of the latent vector of each sample.

    hidden_layer_sizes : tuple of int, default=(256, 256)
        Widths of the encoder's hidden layers.

    decoder_hidden_layer_sizes : tuple of int or None, default=None
        Widths of the decoder's hidden layers; ``None`` mirrors the encoder.

    activation : {"silu", "relu", "leaky_relu", "elu", "gelu", "softplus", \
            "tanh", "sigmoid", "identity"}, default="silu"
        Nonlinearity between layers.

    max_epochs : int or "auto", default="auto"
        Total epoch budget. "auto" is twice what :class:`RRAETransformer`
        trains for, ``2 * max(20, ceil(1000 / batches_per_epoch))``. The start
        phase gets at most a quarter of it, the pruning phase at most half, the
        final phase the rest; the first and last end earlier when the loss
        stagnates.

    batch_size : int, default=256
        Mini-batch size (capped at the number of samples).

    lr : float, default=1e-3
        Learning rate.

    optimizer : torch optimizer class, default=torch.optim.Adam
        Other arguments are given skorch-style, e.g. ``optimizer__weight_decay``.

    device : str or torch.device, default="auto"
        "auto" trains on CUDA when available, else on the CPU.

    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and the shuffling; the global torch RNG is
        left untouched.

    verbose : int, default=0
        If positive, skorch prints one line per epoch and shows a progress bar
        over the batches of each epoch (skorch's ``ProgressBar``, tqdm).

    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra callbacks for the training loop.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the
        validation loss stops improving, then go back to the best weights, as
        in :class:`RRAETransformer`. Epochs count only once the rank schedule
        has reached its final phase: until then the rank still changes, and the
        count, the best score and the best weights start over at every epoch.

    validation_fraction : float, default=0.1
        Fraction of the samples held out when ``early_stopping`` is on.

    n_iter_no_change : int, default=10
        Epochs at the final rank without an improvement of ``tol`` before early
        stopping ends training.

    tol : float, default=1e-4
        Smallest decrease of the validation loss that counts as an improvement,
        as in :class:`RRAETransformer`. Only used with ``early_stopping``.

    warm_start : bool, default=False
        If True, :meth:`fit` on a fitted estimator continues from its weights
        and optimizer state, as in :class:`RRAETransformer`.

    architecture : {"mlp", "cnn"}, default="mlp"
        Built-in networks: fully connected, or convolutional for images given
        as flat rows (set ``input_shape``), as in :class:`RRAETransformer`.

    input_shape : tuple of int or None, default=None
        ``(channels, height, width)`` or ``(height, width)`` of one sample (one
        entry may be -1), as in :class:`RRAETransformer`.

    encoder : torch.nn.Module class or instance, default=None
        A network of your own, ``(batch, n_features_in_)`` to ``(batch,
        latent_dim)``, as in :class:`RRAETransformer`.

    decoder : torch.nn.Module class or instance, default=None
        A network of your own, ``(batch, latent_dim)`` to ``(batch,
        n_features_in_)``, as in :class:`RRAETransformer`.

    **kwargs : dict
        Parameters routed skorch-style: ``optimizer__<name>``,
        ``encoder__<name>``, ``decoder__<name>``.

    Attributes
    ----------
    n_components_ : int
        The rank found.

    rank_history_ : list of (epoch, rank, loss) tuples
        Every change of rank: the epoch during which it happened, the new rank,
        and the mean training loss (in the units of ``X``, as in
        ``loss_curve_``) that decided it. The first entry is the start rank with
        a NaN loss; the last one's rank is ``n_components_``.

    target_loss_ : float
        The loss a rank had to reach to be kept (units of ``X``).

    components_ : ndarray of shape (n_components_, latent_dim)
        Global latent basis, as in :class:`RRAETransformer`.

    singular_values_ : ndarray of shape (n_components_,)
        Top singular values of the encoded training set.

    n_iter_ : int
        Number of epochs run.

    loss_curve_ : list of float
        Mean training loss of each epoch, in the units of ``X``.

    validation_scores_ : list of float or None
        With ``early_stopping``, the score of each epoch on the held-out
        samples: minus the mean squared reconstruction error in the units of
        ``X`` (the sign of :meth:`score`, higher is better; batch-wise
        truncation as in training). None otherwise.

    best_validation_score_ : float or None
        With ``early_stopping``, the validation score of the epoch whose
        weights were kept. None otherwise.

    net_ : skorch.NeuralNet
        The skorch net; ``net_.callbacks_`` holds the :class:`RankSchedule`.

    module_ : torch.nn.Module
        The trained encoder/decoder module.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    input_shape_ : tuple of int or None
        ``input_shape`` resolved to ``(channels, height, width)``; None when
        ``input_shape`` is None.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when they are all strings.

    See Also
    --------
    RRAETransformer : The same model at a fixed rank.
    RankSchedule : The skorch callback that changes the rank during training.

    Notes
    -----
    None of the schedule's thresholds needs tuning, and all are relative: the
    loss is measured on data scaled to unit mean feature variance. A rank keeps
    the accuracy when its loss comes within 1 % of the data variance of the
    loss reached at the start rank (judged on the mean of its last 5 steps). A
    loss stagnates when its mean over 20 steps improves by less than 1 % on the
    previous 20 steps' mean, three times in a row; a pruned rank is given up
    when, at its current rate, it would need more than 10 such windows to reach
    the target, three times in a row. Pruning drops one mode at a time but
    doubles the step after each success, and goes back to single steps after a
    failed multi-mode step. See :class:`RankSchedule` for the phases.

    Early stopping: the rank schedule decides on the training loss; early
    stopping only counts epochs once the rank is settled (the schedule's final
    phase, see ``FinalRankEarlyStopping``), so the weights it restores are of
    the final rank. The final phase ends at whichever comes first: a
    stagnating training loss, ``n_iter_no_change`` epochs without validation
    improvement, or ``max_epochs``.

    Examples
    --------
    >>> from sklearn_rrae import AdaptiveRRAETransformer
    >>> from sklearn_rrae.datasets import make_shifted_sine
    >>> X, _, _, _ = make_shifted_sine(random_state=0)
    >>> model = AdaptiveRRAETransformer(max_epochs=30, random_state=0).fit(X)
    >>> model.transform(X).shape[1] == model.n_components_
    True
    """

    _parameter_constraints: dict = {
        **BaseRRAE._parameter_constraints,
        "max_components": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
    }

    def __init__(
        self,
        max_components="auto",
        *,
        latent_dim=128,
        hidden_layer_sizes=(256, 256),
        decoder_hidden_layer_sizes=None,
        activation="silu",
        max_epochs="auto",
        batch_size=256,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        architecture="mlp",
        input_shape=None,
        encoder=None,
        decoder=None,
        **kwargs,
    ):
        self.max_components = max_components
        super().__init__(
            latent_dim=latent_dim,
            hidden_layer_sizes=hidden_layer_sizes,
            decoder_hidden_layer_sizes=decoder_hidden_layer_sizes,
            activation=activation,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            device=device,
            random_state=random_state,
            verbose=verbose,
            callbacks=callbacks,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
            architecture=architecture,
            input_shape=input_shape,
            encoder=encoder,
            decoder=decoder,
            **kwargs,
        )

    def _start_rank(self, n_samples, n_features):
        if self.max_components != "auto":
            self._check_rank(self.max_components, "max_components", n_samples, n_features)
            return self.max_components
        batch = min(self.batch_size, n_samples)
        return max(1, min(_AUTO_MAX_COMPONENTS, self.latent_dim, batch - 1, n_features))

    def _n_epochs(self, n_batches):
        if self.max_epochs != "auto":
            return self.max_epochs
        return 2 * super()._n_epochs(n_batches)

    def _early_stopping(self):
        return FinalRankEarlyStopping(
            monitor="valid_loss",
            patience=self.n_iter_no_change,
            threshold=self.tol,
            threshold_mode="abs",
            load_best=True,
        )

    def _schedule_callbacks(self, rank, n_batches, n_epochs):
        return [("rank_schedule", RankSchedule(start_rank=rank, total_steps=n_epochs * n_batches))]

    def _after_training(self, net):
        schedule = dict(net.callbacks_)["rank_schedule"]
        to_data_units = float(self._scaling.data_scale) ** 2
        self.rank_history_ = [(e, r, loss * to_data_units) for e, r, loss in schedule.history_]
        target = schedule.target_
        self.target_loss_ = math.nan if target is None else target * to_data_units
