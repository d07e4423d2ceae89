"""The adaptive-rank RRAE: the rank is found during training by a skorch callback."""

import math
import numbers
import warnings

import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import BaseRRAE
from ._plan import auto_epochs, check_rank
from ._rank_schedule import RankSchedule

# max_components="auto": at most this many modes to start from.
_AUTO_MAX_COMPONENTS = 64


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
        stagnates. Below "auto", a start phase that ends on its quarter before
        the loss stagnates raises a
        :class:`~sklearn.exceptions.ConvergenceWarning`: the target is then set
        on an undertrained start rank, and the rank found is too low (the
        digits: 6 at 60 epochs, 12 at "auto" and above).

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

    init : {"auto", "pca", "random"}, default="auto"
        How the networks start, as in :class:`RRAETransformer`, except that
        ``"auto"`` is ``"random"`` here: from the PCA start (on the top
        ``max_components`` principal axes) the rank schedule keeps one or two
        ranks too many on smooth manifolds of known dimension 2 and 3.

    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the data and stop when the
        validation loss stops improving, then go back to the best weights, as
        in :class:`RRAETransformer` (``"auto"``: on wherever the split gives at
        least 10 validation rows). Epochs count only once
        the rank schedule has reached its final phase: until then the rank
        still changes, and the count, the best score and the best weights
        start over at every epoch (the PCA start is then no longer a
        candidate). Unlike :class:`RRAETransformer`, the weights validated are
        those of the last step, not an average over the steps: under the rank
        schedule the steps train different ranks.

    validation_fraction : float, default=0.1
        Fraction of the samples held out when early stopping is on.

    n_iter_no_change : int or "auto", default="auto"
        Epochs at the final rank without an improvement of ``tol`` before early
        stopping ends training; ``"auto"``: a quarter of the epochs, at least 10.

    tol : float, default=1e-4
        Smallest relative decrease of the validation loss that counts as an
        improvement, as in :class:`RRAETransformer`. Only used with early stopping.

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

    density : estimator or None, default=None
        The density of :meth:`sample`, fitted on the training codes, as in
        :class:`RRAETransformer`.

    decoder_epochs : int or "auto", default="auto"
        Epochs of the decoder's second stage on the global basis of the rank
        found, as in :class:`RRAETransformer` ("auto": half of the training
        epochs for the built-in MLP on data of more than 10,000 rows, none
        otherwise; the stage with dropout of wide validated data follows a
        PCA start, which the adaptive estimator does not make).

    decoder_dropout : float in [0, 1) or "auto", default="auto"
        Dropout after each hidden layer of the built-in MLP decoder, as in
        :class:`RRAETransformer` ("auto": none here, since the adaptive
        estimator starts from random weights and the stage with dropout
        follows a PCA start only). A number sets the rate in training and in
        the second stage, which is not measured under the rank schedule, whose
        stagnation test reads the training loss that dropout makes noisier.

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

    explained_variance_ratio_ : ndarray of shape (n_components_,)
        As PCA's, in data space and on the training data: entry ``r`` is the
        fraction of the total variance that the first ``r + 1`` codes, decoded,
        explain beyond the first ``r``; ``cumsum`` is ``1 - MSE_r / total
        variance``.

    density_ : estimator
        The fitted density of the training codes that :meth:`sample` draws from.

    n_iter_ : int
        Number of epochs run.

    decoder_n_iter_ : int
        Number of epochs of the decoder's second stage; 0 when there was none.

    decoder_loss_curve_ : list of float
        Mean training loss of each epoch of the second stage (units of ``X``).

    decoder_validation_scores_ : list of float or None
        The second stage's validation scores, as in :class:`RRAETransformer`.

    loss_curve_ : list of float
        Mean training loss of each epoch, in the units of ``X``.

    validation_scores_ : list of float or None
        With early stopping, the score of each epoch on the held-out
        samples: minus the mean squared reconstruction error in the units of
        ``X`` (the sign of :meth:`score`, higher is better; batch-wise
        truncation as in training). None otherwise.

    best_validation_score_ : float or None
        With early stopping, the validation score of the epoch whose
        weights were kept. None otherwise.

    start_validation_score_ : float or None
        With early stopping and the PCA start, the validation score of the
        model before training (PCA's solution at ``max_components``). None otherwise.

    start_kept_ : bool
        Whether training ended at its PCA start (``init="pca"`` with early
        stopping only: the rank schedule's start is at another rank than its
        result, so without validation rows nothing compares them). False otherwise.

    net_ : skorch.NeuralNet
        The skorch net; ``net_.callbacks_`` holds the :class:`RankSchedule`, and
        ``net_.history`` what it recorded each epoch (``rank``, ``rank_settled``, ...).

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
    phase, which it records as ``rank_settled`` in the history), so the weights it restores are of
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
        init="auto",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change="auto",
        tol=1e-4,
        warm_start=False,
        architecture="mlp",
        input_shape=None,
        encoder=None,
        decoder=None,
        density=None,
        decoder_epochs="auto",
        decoder_dropout="auto",
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
            init=init,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
            architecture=architecture,
            input_shape=input_shape,
            encoder=encoder,
            decoder=decoder,
            density=density,
            decoder_epochs=decoder_epochs,
            decoder_dropout=decoder_dropout,
            **kwargs,
        )

    # max_epochs="auto": twice RRAETransformer's budget (start, pruning and final phases).
    _auto_epochs_factor = 2
    # init="auto" is "random" here: from the PCA start the schedule kept one or two
    # ranks too many on the tanh manifolds of d = 2 and 3 (tests/test_adaptive.py:
    # 3 for 2, 4 or 5 for 3; from random weights 2 and 3), with or without early stopping.
    _auto_pca_start = False

    def _rank(self, n_samples, n_features):
        if self.max_components != "auto":
            check_rank(
                self.max_components, "max_components", self.latent_dim, self.batch_size, n_samples, n_features
            )
            return self.max_components
        batch = min(self.batch_size, n_samples)
        return max(1, min(_AUTO_MAX_COMPONENTS, self.latent_dim, batch - 1, n_features))

    def _warn_of(self, epochs):
        for row in epochs:
            if row.get("rank_warning"):
                message = f"{type(self).__name__}: {row['rank_warning']}"
                warnings.warn(message, ConvergenceWarning, stacklevel=5)

    def _check_process_group(self, incremental):
        raise ValueError(
            "AdaptiveRRAETransformer does not train inside a torch.distributed process group (its rank "
            "schedule reads each process's own loss); use RRAETransformer with a fixed n_components there."
        )

    def _schedule(self, plan):
        schedule = RankSchedule(
            start_rank=plan.rank,
            total_steps=plan.n_epochs * plan.n_batches,
            sufficient_steps=auto_epochs(plan.n_batches, self._auto_epochs_factor) * plan.n_batches,
        )
        return [("rank_schedule", schedule)]

    # What the schedule recorded, read from the net's history (see RankSchedule's Notes).

    @property
    def rank_history_(self):
        check_is_fitted(self)
        to_data_units = self._scaling.loss_to_data_units
        changes = [change for row in self.net_.history for change in row.get("rank_changes", ())]
        return [(epoch, rank, float(loss * to_data_units)) for epoch, rank, loss in changes]

    @property
    def target_loss_(self):
        check_is_fitted(self)
        target = self.net_.history[-1].get("rank_target")
        return math.nan if target is None else float(target * self._scaling.loss_to_data_units)
