"""The Rank Reduction Autoencoder transformer."""

import numbers

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._base import BaseRRAE
from ._explained_variance import pca_rank
from ._plan import check_rank
from ._restarts import train_best_start
from ._truncation import nested_rank_truncate


class RRAETransformer(BaseRRAE):
    """Rank Reduction Autoencoder (RRAE): a nonlinear drop-in for PCA.

    An MLP encoder maps each sample to a long latent vector of length
    ``latent_dim``; during training the latent matrix of every mini-batch is
    replaced by its best rank-``n_components`` approximation (truncated SVD)
    before the decoder reconstructs the input. The bottleneck is therefore the
    *rank* of the latent space, not the width of a layer. After training, one
    global latent basis of ``n_components`` vectors is computed from the whole
    training set; :meth:`transform` returns the coefficients of each sample on
    it and :meth:`inverse_transform` decodes coefficients back to the input
    space, exactly like ``PCA(n_components)``.

    Training runs on `skorch <https://skorch.readthedocs.io>`_ and PyTorch, on
    the GPU when there is one.

    Parameters
    ----------
    n_components : int, float or None, default=None
        Rank ``k`` kept in each batch latent, and number of output columns of
        :meth:`transform`. ``None`` disables the truncation: a plain
        autoencoder with a ``latent_dim`` latent (the usual baseline), whose
        :meth:`transform` returns all ``latent_dim`` coefficients. A float
        ``0 < n_components < 1`` is a fraction of the variance, as for PCA: the
        model is trained with ``nested=True`` at PCA's rank for that fraction
        (capped at ``latent_dim`` and ``batch_size - 1``), and keeps the
        smallest rank whose ``explained_variance_ratio_`` sums to more than the
        fraction (the top rank if none does): at most PCA's rank, usually
        fewer, since the network explains more per code. Not with
        :meth:`partial_fit` (the fraction needs all the data).

    latent_dim : int, default=128
        Length ``L`` of the latent vector of each sample. Must be at least
        ``n_components``.

    hidden_layer_sizes : tuple of int, default=(256, 256)
        Widths of the encoder's hidden layers.

    decoder_hidden_layer_sizes : tuple of int or None, default=None
        Widths of the decoder's hidden layers; ``None`` mirrors the encoder.

    activation : {"silu", "relu", "leaky_relu", "elu", "gelu", "softplus", \
            "tanh", "sigmoid", "identity"}, default="silu"
        Nonlinearity between layers.

    max_epochs : int or "auto", default="auto"
        Number of passes over the training data. ``"auto"`` trains for
        ``max(20, ceil(1000 / batches_per_epoch))`` epochs: at least 20 passes
        and at least 1000 optimizer steps, so that small data sets get enough
        steps and large ones a bounded number of passes.

    batch_size : int, default=256
        Mini-batch size (capped at the number of samples). It must exceed
        ``n_components``: a batch latent's rank cannot exceed its row count. A
        last batch too small for that is merged into the previous one.

    lr : float, default=1e-3
        Learning rate.

    optimizer : torch optimizer class, default=torch.optim.Adam
        Any ``torch.optim.Optimizer`` subclass. Its other arguments are given
        skorch-style, e.g. ``optimizer__weight_decay=1e-4``.

    device : str or torch.device, default="auto"
        ``"auto"`` trains on CUDA when available and on the CPU otherwise;
        anything else is passed to ``torch.device`` ("cpu", "cuda:1", ...).

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation and the shuffling of the batches. An
        int makes CPU results reproducible; the caller's global torch RNG is
        left untouched either way.

    verbose : int, default=0
        If positive, skorch prints one line per epoch and shows a progress bar
        over the batches of each epoch (skorch's ``ProgressBar``, tqdm). The
        table's ``train_mse`` and ``valid_mse`` are in the units of ``X``, as
        in ``loss_curve_`` (skorch's own ``train_loss`` and ``valid_loss``, in
        the model's scaled units, stay in ``net_.history``). With ``n_init > 1``
        each start prints its table, then its score and which start is kept.

    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra callbacks for the skorch training loop (early stopping, learning
        rate schedules, checkpoints, progress bars, your own).

    init : {"auto", "pca", "random"}, default="auto"
        How the networks start. ``"pca"``: training starts at PCA's solution.
        The encoder is the exact map onto the top ``n_components`` principal
        axes of ``X`` (computed in float64, frozen) plus the MLP as a
        correction, the decoder PCA's reconstruction plus an MLP correction,
        both corrections starting at zero; the networks learn only what PCA
        misses, and the truncation still acts on the whole latent. ``"random"``:
        the MLPs from torch's default initialisation (the RRAE of the paper).
        ``"auto"``: ``"pca"`` for the built-in MLP with ``n_components`` set,
        ``"random"`` otherwise (the CNN, custom networks, the plain autoencoder).
        Why: from random weights a network trained in float32 stops at a
        relative precision that, on raw tabular data of mixed scales, is a
        large absolute error (``load_breast_cancer`` at k=5: 64 x PCA's held-out
        MSE; from the PCA start 0.63 x).

    early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the data (a split seeded by
        ``random_state``) and stop when the validation loss has not improved
        by a fraction ``tol`` of the best one for ``n_iter_no_change`` epochs
        in a row, then go back to the weights of the best epoch (skorch's
        ``EarlyStopping`` with ``load_best=True``, as ``MLPRegressor`` does).
        What is validated, chosen and kept is an exponential average of the
        weights over the training steps (decay 0.98 per step), not the
        weights of one step: a smoother and better model on small data
        (Olivetti faces at k=5: 0.81 x PCA's held-out MSE, from 0.87 x with
        each epoch's own weights); training itself goes on from its own
        weights. The validation loss is computed like the training loss, each
        validation batch's latent truncated to the current rank. With the PCA
        start (``init``) the start itself is a candidate: the trained model
        replaces it only if its validation error is lower row by row beyond
        noise (by two standard errors of the per-row difference); otherwise
        the model ends as PCA's solution and a
        :class:`~sklearn_rrae.LinearStartKeptWarning` says so. The basis is
        then built from all of ``X``. ``"auto"``: on wherever the split
        leaves at least 10 validation rows (fewer cannot judge a model), off
        otherwise. Small data need it most (320 faces: 1.11 x PCA's held-out
        MSE without it); on MNIST-20k it costs nothing (0.476 x PCA's at
        k=10, 0.480 x with every row training), and it is what sees a model
        memorise few distinct rows repeated many times (wine's 124 rows
        resampled with jitter to 14,000: 1.007 x PCA's without it, 1.000 x
        with it). Without early stopping, training runs ``max_epochs``
        epochs, and a model with the PCA start is then judged on (at most
        5,000 of) its training rows the same way: one that does not beat its
        start there goes back to it, with the same warning. A model worse
        than PCA on the rows it was trained on is worse (wine's rows resampled
        to 14,000: 1.65 x PCA's held-out MSE before this check).

    validation_fraction : float, default=0.1
        Fraction of the samples held out when early stopping is on.

    n_iter_no_change : int or "auto", default="auto"
        Epochs without an improvement of ``tol`` before early stopping ends
        training. ``"auto"``: a quarter of the epochs, at least 10 (a patience
        of 10 stops a curved manifold such as the swiss roll on its first
        plateau).

    tol : float, default=1e-4
        Smallest relative decrease of the validation loss that counts as an
        improvement: an epoch improves when its loss is below ``(1 - tol)``
        times the best one so far. Only used with early stopping.

    warm_start : bool, default=False
        If True, :meth:`fit` on a fitted estimator continues from its weights
        and optimizer state (hyperparameters such as ``lr``, ``max_epochs`` or
        ``n_components`` take their current values; the architecture must be
        unchanged) and keeps the scaling of the first fit; the basis is rebuilt.
        ``n_iter_``, ``loss_curve_`` and ``validation_scores_`` are extended.
    architecture : {"mlp", "cnn"}, default="mlp"
        Built-in networks. ``"mlp"``: fully connected encoder and decoder
        (``hidden_layer_sizes``). ``"cnn"``: for images given as flat rows, a
        :class:`~sklearn_rrae.ConvEncoder` (strided convolutions, then a linear
        map to the latent) and its mirror image
        :class:`~sklearn_rrae.ConvDecoder` (a linear map, then transposed
        convolutions back to the exact image size); set ``input_shape``. Their
        layers are set skorch-style: ``encoder__channels`` (default
        ``(16, 32, 64)``, one stride-2 convolution each) and
        ``encoder__kernel_size`` (default 3), which the decoder mirrors when
        they are given, unless ``decoder__channels`` / ``decoder__kernel_size``
        are given too; by default the decoder is wider, ``(16, 64, 128)`` in
        the encoder's order. The rank
        truncation, the global basis and everything else are the same for both.

    input_shape : tuple of int or None, default=None
        Shape of one sample, ``(channels, height, width)`` or ``(height,
        width)``, whose product must be ``n_features_in_``; one entry may be -1,
        inferred from the data as in ``numpy.reshape`` (``(1, -1)`` reads each
        row as a one-dimensional signal). Rows stay flat: the networks reshape
        them. Required by ``architecture="cnn"``; otherwise only checked and
        passed to custom networks.

    encoder : torch.nn.Module class or instance, default=None
        A network of your own instead of the built-in one. It must map a float32
        batch of shape ``(batch, n_features_in_)`` to ``(batch, latent_dim)``.
        A class is instantiated at :meth:`fit` with the ``encoder__<name>``
        parameters, plus ``n_features``, ``latent_dim`` and ``input_shape``
        (``(channels, height, width)``, or None) for those of these names its
        constructor takes (all of them, if it takes ``**kwargs``). An instance
        is deep-copied at :meth:`fit` and the copy trained, so the estimator's
        parameter is never changed (its initial weights are then the
        instance's own, not drawn from ``random_state``). The shapes are
        checked on a dummy batch before training; a mismatch raises a
        ValueError that says which network returned what.

    decoder : torch.nn.Module class or instance, default=None
        Same for the decoder: maps ``(batch, latent_dim)`` to ``(batch,
        n_features_in_)``; class arguments as ``decoder__<name>``. Either
        network may be custom and the other built-in.

    density : estimator or None, default=None
        The density of :meth:`sample`, fitted on the codes of the training data
        at the end of :meth:`fit` (a clone; the fitted one is ``density_``), of
        at most 5,000 of its rows (a random subset seeded by ``random_state``:
        on MNIST-20k at k = 10 the default mixture then costs 0.3 s, about 1 %
        of the fit; with ``n_components=None`` and the 128-long latent, 3.6 s).
        None: ``GaussianMixture(n_components=10, covariance_type="full")``
        (Ghosh et al. 2020's choice for deterministic autoencoders; fewer
        components when there are fewer than 10 rows), seeded from
        ``random_state``. Otherwise any unfitted scikit-learn estimator with
        ``fit`` and ``sample``: ``BayesianGaussianMixture``, ``KernelDensity``,
        a mixture with other settings.

    decoder_epochs : int or "auto", default="auto"
        Epochs of a second stage that trains the decoder alone on the path of
        :meth:`inverse_transform` and :meth:`sample`: ``decoder(codes @
        components_)`` against the training rows, the encoder and the basis
        fixed (the codes of :meth:`transform` do not change). Training
        truncates each batch on its own singular vectors, inference decodes on
        the global basis; this stage closes the gap (the authors' second
        stage). With validation rows (``early_stopping``) the decoder as it was
        before the stage is a candidate, kept unless an epoch beats it beyond
        noise (the stage validates an average of the weights, as training
        does), and the stage stops early like training. ``0``: no second stage.
        ``"auto"``, for the built-in MLP: after a PCA start, with validation
        rows (by default, wherever the split gives 10 of them) and more features than
        training rows, 6 tenths of the training epochs (rounded up), with
        dropout in the decoder (``decoder_dropout="auto"``), if training ended
        at a validation MSE of at least half its PCA start's (a model that
        more than halves PCA's held-out error generalises: none there);
        otherwise half of the training epochs on data of more than 10,000 rows
        and none below.
        None for the CNN and custom networks (not measured; the CNN's decoder
        is most of its training step) and none after a fit that ended at the
        PCA start. Measured on MNIST-20k at k = 10 (10 epochs, seeds 0-2):
        held-out MSE 2.8 % lower, Fréchet distance of :meth:`sample` 0.88-0.93
        x, about 6.6 s on 2 CPU cores (the fit 1.16-1.33 x longer; 10 more
        training epochs gain as much and cost more). On Olivetti faces at k = 5
        (288 training images of 4,096 pixels, seeds 0-2) the validated stage
        with dropout took the held-out MSE from 0.81 to 0.78 x PCA's (fits of
        about 20 s from 10 s); without dropout no stage epoch beat the decoder
        it started from there, and with it none did on data with fewer features
        than rows (the digits, the swiss roll, MNIST-1000, tabular data), which
        it only made slower; unvalidated it multiplied the shifted sine's error
        (17 rows) by 7. With ``nested=True`` the stage trains every rank, as
        training does. Not run by :meth:`partial_fit`, nor with
        ``n_components=None``.

    decoder_dropout : float in [0, 1) or "auto", default="auto"
        Dropout (``torch.nn.Dropout``) after each hidden layer of the built-in
        MLP decoder while it trains; off in :meth:`transform`,
        :meth:`inverse_transform`, :meth:`sample` and on the validation rows. A
        regulariser for small, noisy data with more features than rows, where
        the decoder can memorise each training row. ``"auto"``: none in
        training; 0.3 in a second stage (``decoder_epochs``) that validation
        rows judge, on data with more features than training rows, after a PCA
        start (``init``): the stage keeps the decoder it starts from unless
        dropout's beats it beyond noise, so that where dropout does not help
        (the paper's noise-free signals) the fit stays as it was. A number:
        that rate in training and in the second stage. On Olivetti faces at k =
        5, 0.3 from the first epoch gave 0.78 x PCA's held-out MSE, like
        ``"auto"``, for a longer fit, but on noise-free simulated signals it
        costs accuracy (the paper's 2-D Gaussian blob at k = 2: 6.2 % relative
        error against 2.1 %), and on data with few features it undoes the gains
        of the defaults (the swiss roll, breast cancer at k = 2). Only for the
        built-in MLP decoder: a value above 0 with ``architecture="cnn"`` or a
        custom ``decoder`` raises a ValueError; ``"auto"`` leaves a custom
        decoder's own dropout alone.

    n_init : int, default=1
        Number of training starts from different random weights (like
        ``KMeans(n_init)``). Each start trains for a fifth of the epochs; the
        one whose codes of the training data are the most trustworthy
        (:func:`sklearn.manifold.trustworthiness`, 10 neighbours, on at most
        1000 rows: samples that are close in code space are close in the data)
        trains for the remaining epochs, and the others are discarded. An
        autoencoder with a short code can fold the data: distant samples get
        nearby codes, the training error stays small but codes between them
        decode badly (interpolation, sampling); whether a start folds is
        settled early, and those starts score low. A fit costs about
        ``1 + 0.2 (n_init - 1)`` single fits. The first start is the one
        ``n_init=1`` trains. Ignored by a warm start and by :meth:`partial_fit`.

    nested : bool, default=False
        Train every rank at once: each batch's rows are truncated at their own
        rank (two rows in three at ``n_components``, the others at 1, 2, ...,
        ``n_components - 1`` in turn), so that the first ``r`` columns of
        :meth:`transform` are a rank-``r`` code and ``inverse_transform`` of
        them the rank-``r`` model, for every ``r`` (:meth:`at_rank`,
        :func:`~sklearn_rrae.model_selection.rank_curve`: the rank
        cross-validated from one fit per fold). The validation loss of early
        stopping is that of the full rank. Measured with defaults
        (``benchmarks/nested.py``, held-out MSE): the first ``r`` codes of a
        nested model beat PCA(r) at every rank and a plain fit's first ``r``
        codes by far (digits, K = 16: rank 2 at 12.8 against 14.6; PCA 13.8),
        but not a model trained at rank ``r`` alone (1.18 to 1.57 x its
        error below the full rank on the digits at K = 16, 1.29 to 1.48 x on
        MNIST-20k at K = 32); at the full rank nested costs 6 % (digits) to
        13 % (MNIST-20k) and 1.17 to 1.48 x the fit time; hence not the
        default. Ignored when ``n_components`` is None.

    **kwargs : dict
        Parameters routed skorch-style: ``optimizer__<name>`` to the optimizer,
        ``encoder__<name>`` / ``decoder__<name>`` to a network class (the
        ``encoder`` / ``decoder`` parameter, or the built-in CNN).

    Attributes
    ----------
    n_components_ : int
        Number of coefficients returned by :meth:`transform`: ``n_components``,
        or ``latent_dim`` when it is ``None``.

    components_ : ndarray of shape (n_components_, latent_dim)
        Global latent basis (orthonormal rows): the top right singular vectors
        of the encoded training set, the largest-magnitude entry of each row
        positive. With ``n_components=None``, the identity: the code is the
        latent itself.

    singular_values_ : ndarray of shape (n_components_,)
        The ``n_components_`` largest singular values of the encoded training
        set, decreasing (zero beyond its rank). With ``n_components`` set, they
        are the norms of the columns of ``transform(X_train)``.

    explained_variance_ratio_ : ndarray of shape (n_components_,) or None
        As PCA's, in data space and on the training data: entry ``r`` is the
        fraction of the total variance that the rank ``r + 1`` model (the first
        ``r + 1`` codes, decoded) explains beyond the rank ``r`` one, so
        ``cumsum`` is ``1 - MSE_r / total variance`` and a scree plot is drawn
        as for PCA (on at most 5,000 training rows, a random subset: on all
        20,000 of MNIST-20k it cost 10 % of the fit). Well ordered with
        ``nested=True``; for a plain fit it shows how its prefixes do (an
        entry may then be negative). After
        :meth:`partial_fit`, summed over the chunks seen, each with the model
        of its time. None with ``n_components=None``.

    density_ : estimator or None
        The density of the training codes that :meth:`sample` draws from
        (after :meth:`partial_fit`: of the latest chunk's codes). None, with the
        default ``density``, after a fit on a single row.

    n_iter_ : int
        Number of epochs run (by the start that was kept, with ``n_init > 1``).

    decoder_n_iter_ : int
        Number of epochs of the decoder's second stage (``decoder_epochs``);
        0 when there was none.

    decoder_loss_curve_ : list of float
        Mean training loss of each epoch of the second stage, on the global
        basis, in the units of ``X``; empty when there was none.

    decoder_validation_scores_ : list of float or None
        The second stage's score of each epoch on the validation rows (minus
        the mean squared error of ``inverse_transform(transform(X))``, units
        of ``X``); None when the stage was not validated or did not run.

    init_scores_ : ndarray of shape (n_init,) or None
        With ``n_init > 1``, the trustworthiness of each start's codes after
        its trial epochs (the highest one was kept). None otherwise.

    loss_curve_ : list of float
        Mean training loss of each epoch: the mean squared reconstruction
        error with the batch-wise truncation, in the units of ``X``.

    validation_scores_ : list of float or None
        With early stopping, the score of each epoch on the held-out
        samples: minus the mean squared reconstruction error in the units of
        ``X`` (the sign of :meth:`score`, higher is better; batch-wise
        truncation as in training). None otherwise.

    best_validation_score_ : float or None
        With early stopping, the validation score of the epoch whose weights
        were kept (the start's, when the PCA start was kept). None otherwise.

    start_validation_score_ : float or None
        With early stopping and the PCA start, the validation score of the
        model before training: PCA's solution (after a warm start, the model
        it continued from). ``best_validation_score_`` above
        it says how much the network learned beyond PCA; equal to it, that it
        found nothing (a :class:`~sklearn_rrae.LinearStartKeptWarning` was
        raised). None otherwise.

    start_kept_ : bool
        Whether the fitted model is its PCA start (``init``): training did not
        beat it on the validation rows, or, without early stopping, on the
        training rows (a :class:`~sklearn_rrae.LinearStartKeptWarning` was
        raised). Always False without the PCA start. A warm start that beats
        nothing keeps the model it continued from, and this attribute as it was.

    latent_gram_ : ndarray of shape (latent_dim, latent_dim)
        After :meth:`partial_fit` only: the running sum of ``Z.T @ Z`` over the
        encoded chunks, from which the basis is taken (float64, model units).

    n_samples_seen_ : int
        After :meth:`partial_fit` only: the number of samples streamed so far.

    net_ : skorch.NeuralNet
        The skorch net that trained the module; ``net_.history`` holds the
        per-epoch and per-batch records.

    module_ : torch.nn.Module
        The trained encoder/decoder module (``net_.module_``).

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    input_shape_ : tuple of int or None
        ``input_shape`` resolved to ``(channels, height, width)``; None when
        ``input_shape`` is None.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    AdaptiveRRAETransformer : The same model, with the rank found during training.
    sklearn.decomposition.PCA : Linear projection on the top principal axes.
    sklearn.decomposition.KernelPCA : Nonlinear PCA through a kernel.

    Notes
    -----
    The model is the strong formulation of Mounayer et al., *Rank Reduction
    Autoencoders* (arXiv:2405.13980). Inputs are centred per feature and
    divided by one global scale, so the training loss is the mean squared
    error of the data itself (what :meth:`score` reports) up to a constant;
    the decoder's output is multiplied by each feature's spread, so constant
    features are reconstructed exactly. Use a ``StandardScaler`` in front if
    every feature should weigh the same, as with PCA.

    The truncation's backward pass is computed in closed form from an
    eigendecomposition of the small Gram matrix of the batch latent, with the
    eigenvalue gaps regularised: it is exact where the truncation is
    differentiable and finite on repeated or vanishing singular values.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_rrae import RRAETransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> rrae = RRAETransformer(n_components=5, max_epochs=5, random_state=0)
    >>> codes = rrae.fit_transform(X)
    >>> codes.shape
    (1797, 5)
    >>> rrae.inverse_transform(codes).shape
    (1797, 64)
    """

    _parameter_constraints: dict = {
        **BaseRRAE._parameter_constraints,
        "n_components": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Interval(numbers.Real, 0, 1, closed="neither"),
            None,
        ],
        "n_init": [Interval(numbers.Integral, 1, None, closed="left")],
        "nested": ["boolean"],
    }

    # The truncation of nested=True: each row of a batch at its own rank.
    nested_batch_truncation = staticmethod(nested_rank_truncate)

    def __init__(
        self,
        n_components=None,
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
        n_init=1,
        nested=False,
        **kwargs,
    ):
        self.n_components = n_components
        self.n_init = n_init
        self.nested = nested
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

    def _fraction(self):
        """Whether ``n_components`` is a fraction of the variance (PCA's ``n_components=0.95``)."""
        return isinstance(self.n_components, numbers.Real) and not isinstance(
            self.n_components, numbers.Integral
        )

    def _rank_rule(self, X, first_pass):
        if not self._fraction():
            return self._rank
        # The top rank trained: PCA's rank for the fraction (a warm start keeps the rank its
        # net was trained at), within what the network and the batches allow.
        top = None if first_pass else self.module_.n_components
        if top is None:
            top = pca_rank(X, float(self.n_components))

        def rank_of(n_samples, n_features):
            batch_limit = self.batch_size - 1 if n_samples > self.batch_size else n_samples
            return max(1, min(top, self.latent_dim, n_features, n_samples - 1, batch_limit))

        return rank_of

    def _select_rank(self):
        if not self._fraction():
            return
        # PCA's rule on the nested model's own curve: the first rank explaining more.
        cumulative = np.cumsum(self.explained_variance_ratio_)
        r = int(np.searchsorted(cumulative, float(self.n_components), side="right")) + 1
        self._keep_first_codes(min(r, self.n_components_))

    def _rank(self, n_samples, n_features):
        if self.n_components is not None:
            check_rank(
                self.n_components, "n_components", self.latent_dim, self.batch_size, n_samples, n_features
            )
        return self.n_components

    def _truncations(self):
        if self._decodes_every_rank():
            # Validated at the full rank, like a plain fit: early stopping then ends a
            # nested fit when a plain one would (validated over every rank, digits
            # at k = 5 trained 189-200 epochs instead of 117-147).
            return self.nested_batch_truncation, self.batch_truncation
        return self.batch_truncation, None

    def _decodes_every_rank(self):
        return (self.nested or self._fraction()) and self.n_components is not None

    def _check_process_group(self, incremental):
        super()._check_process_group(incremental)
        if self._fraction():
            raise ValueError(
                f"n_components={self.n_components} (a fraction of the variance) is not supported inside "
                f"a torch.distributed process group; give an int there."
            )
        for name, default, unsupported in (("n_init", 1, self.n_init > 1), ("nested", False, self.nested)):
            if unsupported:
                raise ValueError(
                    f"{name}={getattr(self, name)} is not supported inside a torch.distributed process "
                    f"group; use the default ({default}) there."
                )

    def _train_new(self, make_net, train, seed):
        if self.n_init == 1:
            return super()._train_new(make_net, train, seed)
        return train_best_start(make_net, train, seed, self.n_init)

    @property
    def init_scores_(self):
        # Recorded by the restarts in the kept net's history: None after one start, a
        # warm start or partial_fit, whose nets have no such record.
        check_is_fitted(self)
        return self.net_.history[0].get("init_scores")

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train on one chunk of data for one epoch; refresh the basis from all data seen.

        Streaming counterpart of :meth:`fit` (for dask-ml's ``Incremental``, or
        a loop over chunks of data too large for memory). The first call on an
        unfitted estimator builds the model and takes the scaling statistics
        (per-feature mean and spread, global scale) from this first chunk, which
        should therefore be representative; later calls keep them, and keep the
        weights, the optimizer state and the shuffling generator. Each call runs
        one pass over ``X`` in mini-batches (like ``MLPRegressor.partial_fit``);
        early stopping does not apply. A later call trains the network the
        first one built (or :meth:`fit` did): the parameters that shape it
        (``n_components``, ``nested``, ``latent_dim``, the layers, the
        activation, ``architecture``, ``encoder``, ``decoder``,
        ``decoder_dropout``) must stay as they were, as ``n_components`` must
        for ``IncrementalPCA.partial_fit``.

        After each call the global basis is the top ``n_components``
        eigenvectors of ``latent_gram_``, the running sum of ``Z.T @ Z`` over
        every chunk seen, where ``Z`` is the chunk's latent encoded right after
        training on it. Each chunk's contribution keeps the encoder of its time
        and is never recomputed: while the encoder still changes a lot, early
        chunks enter the basis with stale latents. This is the approximation
        that lets the basis reflect all data seen without storing or re-reading
        it; once training has settled (or for the best basis), call :meth:`fit`
        with ``warm_start=True``, which rebuilds the basis from the data it is
        given with the current encoder.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One chunk; it must have at least ``n_components`` rows.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The transformer, usable after every call.

        Raises
        ------
        ValueError
            If a parameter that shapes the network changed since the call (or
            the :meth:`fit`) that built it; it names them.

        See Also
        --------
        fit : Train on all the data at once (``warm_start=True`` continues training).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_rrae import RRAETransformer
        >>> X = np.random.RandomState(0).normal(size=(200, 8))
        >>> rrae = RRAETransformer(n_components=2, latent_dim=8, hidden_layer_sizes=(16,),
        ...                        batch_size=50, random_state=0)
        >>> for chunk in np.array_split(X, 4):
        ...     rrae = rrae.partial_fit(chunk)
        >>> rrae.n_samples_seen_, rrae.transform(X).shape
        (200, (200, 2))
        """
        if self._fraction():
            raise ValueError(
                f"n_components={self.n_components} (a fraction of the variance) needs all the data at "
                f"once: use fit, or give an int n_components to partial_fit."
            )
        return self._fit(X, incremental=True)
