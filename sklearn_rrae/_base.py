"""The base of the RRAE estimators: the fit as one data flow, and inference from fitted state.

``fit``, a warm start and ``partial_fit`` all go through :meth:`BaseRRAE._fit`:
validate ``X``, make the plan (``_plan``), scale (``_scaling``), hold the rows
(``_data``), build and train the net (``_net``, ``_networks``), record the
curves, build the global basis (``_basis``). ``transform`` and
``inverse_transform`` only encode/decode and project on the stored basis.
"""

import copy
import dataclasses
import numbers
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils import assert_all_finite, gen_batches
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._activations import ACTIVATIONS
from ._basis import basis_from_gram, encoded_gram, fit_basis
from ._data import CHUNK_ROWS, gather_rows, scan, summary_rows, to_device, training_rows
from ._decoder_stage import train_decoder
from ._density import draw, fit_density
from ._distributed import all_gather, in_process_group
from ._explained_variance import explained_variance_ratio, rank_error_sums
from ._linear_start import principal_axes
from ._net import continue_from, curves, fork_rng, new_net, run
from ._networks import ARCHITECTURES
from ._plan import ROUTED_PREFIXES, plan_training
from ._scaling import Scaling
from ._truncation import rank_truncate


class LinearStartKeptWarning(UserWarning):
    """No epoch of training beat the PCA start on the validation rows: the model is PCA's.

    The data gave no evidence of nonlinear structure the network could learn
    (or too few rows to find it); ``start_validation_score_`` and
    ``validation_scores_`` say by how much.

    See Also
    --------
    RRAETransformer : its ``init`` and ``early_stopping`` parameters.
    sklearn.decomposition.PCA : the same solution, faster.

    Examples
    --------
    A linear subspace plus noise: nothing for the network to learn beyond PCA.

    >>> import warnings
    >>> import numpy as np
    >>> from sklearn_rrae import LinearStartKeptWarning, RRAETransformer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 8)) + 0.3 * rng.normal(size=(300, 8))
    >>> model = RRAETransformer(
    ...     n_components=2, latent_dim=16, hidden_layer_sizes=(32,), max_epochs=30, random_state=0
    ... )
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", LinearStartKeptWarning)
    ...     model = model.fit(X)
    >>> [w.category.__name__ for w in caught]
    ['LinearStartKeptWarning']
    >>> model.best_validation_score_ == model.start_validation_score_
    True
    """


# Rows per forward pass at inference (see BaseRRAE._map_rows); divides CHUNK_ROWS.
_BLOCK_ROWS = 256


class BaseRRAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the RRAE transformers. Not meant to be used directly.

    A subclass says what its start rank is (``_rank``), and may add callbacks to
    the training loop (``_schedule``) or train a new net its own way
    (``_train_new``, e.g. several starts).
    """

    # The function that truncates a batch latent during training, ``f(Z, k)``. A
    # subclass may set another (benchmarks compare ``rank_truncate_svd`` with it).
    batch_truncation = staticmethod(rank_truncate)
    # max_epochs="auto" trains this many times the default number of epochs.
    _auto_epochs_factor = 1
    # Whether init="auto" starts the built-in MLP as PCA.
    _auto_pca_start = True

    _parameter_constraints: dict = {
        "latent_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like"],
        "decoder_hidden_layer_sizes": ["array-like", None],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "optimizer": [type],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "init": [StrOptions({"auto", "pca", "random"})],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "input_shape": ["array-like", None],
        "encoder": [type, torch.nn.Module, None],
        "decoder": [type, torch.nn.Module, None],
        "density": [HasMethods(["fit", "sample"]), None],
        "decoder_epochs": [Interval(numbers.Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "decoder_dropout": [Interval(numbers.Real, 0, 1, closed="left"), StrOptions({"auto"})],
    }

    def __init__(
        self,
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
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.decoder_hidden_layer_sizes = decoder_hidden_layer_sizes
        self.activation = activation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.init = init
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.architecture = architecture
        self.input_shape = input_shape
        self.encoder = encoder
        self.decoder = decoder
        self.density = density
        self.decoder_epochs = decoder_epochs
        self.decoder_dropout = decoder_dropout
        self._extra_params = kwargs

    # -- routed parameters (``optimizer__weight_decay=...``, ``encoder__channels=...``) --

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._extra_params)
        return params

    def set_params(self, **params):
        extra = {
            key: params.pop(key)
            for key in list(params)
            if key.startswith(ROUTED_PREFIXES) or key in self._extra_params
        }
        self._extra_params = {**self._extra_params, **extra}
        return super().set_params(**params)

    # -- what the estimators decide ---------------------------------------------------

    def _rank(self, n_samples, n_features):
        """Rank of the batch truncation when training starts (None: no truncation), checked."""
        raise NotImplementedError

    def _schedule(self, plan):
        """``(name, callback)`` pairs the estimator adds to the training loop."""
        return []

    def _truncations(self):
        """``(training, validation)`` truncations of a batch latent, ``f(Z, k)``; None: the same."""
        return self.batch_truncation, None

    def _rank_rule(self, X, first_pass):
        """``rank_of(n_samples, n_features)`` of this fit (the start rank, checked), given ``X``."""
        return self._rank

    def _warn_of(self, epochs):
        """Warn of what this call's history rows ``epochs`` record (a subclass's callbacks).

        A warning raised here needs ``stacklevel=5``: this method, ``_fit``, ``fit``
        or ``partial_fit``, sklearn's ``_fit_context``, the caller.
        """

    def _select_rank(self):
        """Called once the basis and ``explained_variance_ratio_`` are stored; may keep fewer codes."""

    def _decodes_every_rank(self):
        """Whether the decoder serves every rank up to ``n_components`` (``nested=True``)."""
        return False

    def _check_process_group(self, incremental):
        """Raise for what this estimator cannot do inside a torch.distributed process group."""
        if incremental:
            raise ValueError(
                f"{type(self).__name__}.partial_fit is not supported inside a torch.distributed process "
                f"group: call fit in every process, each with its own shard of the rows."
            )

    def _train_new(self, make_net, train, seed):
        """Train a new net (``make_net(seed)``) on ``train`` for all its epochs."""
        net = make_net(seed)
        run(net, train)
        return net

    # -- fit ----------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on ``X`` and build the global latent basis.

        With ``warm_start=True`` and a fitted estimator, training continues from
        the current weights and optimizer state (and keeps the scaling of the
        first fit); the basis is rebuilt from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. It is not modified. Data too large to copy (for
            instance a ``numpy.memmap``) is read, scaled and moved to the device
            batch by batch.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        return self._fit(X, incremental=False)

    def _fit(self, X, incremental):
        """The one fit: from scratch, warm (a new net from the old one's state) or incremental.

        ``incremental`` (``partial_fit``): one epoch, no validation split, the same
        net from call to call, and a basis from the running latent Gram matrix.
        """
        first_pass = not hasattr(self, "net_") or (not self.warm_start and not incremental)
        keep_net = incremental and not first_pass
        distributed = in_process_group()
        if distributed:
            self._check_process_group(incremental)
        X = self._validate_training_input(X, reset=first_pass)
        plan = plan_training(
            super().get_params(deep=False),
            self._extra_params,
            type(self).__name__,
            *X.shape,
            self._rank_rule(X, first_pass),
            epochs_factor=self._auto_epochs_factor,
            auto_pca_start=self._auto_pca_start,
            incremental=incremental,
            device=str(self.net_.device) if keep_net else None,
            integer_params=[
                name
                for name, constraints in self._parameter_constraints.items()
                if any(isinstance(c, Interval) and c.type is numbers.Integral for c in constraints)
            ],
            distributed=distributed,
        )
        if keep_net:
            self._check_same_network(plan)
        scaling = Scaling.of(X, distributed) if first_pass else self._scaling
        data = training_rows(X, scaling.to_model, plan.device)
        train = data if plan.train_rows is None else data.subset(plan.train_rows)
        valid = None if plan.valid_rows is None else data.subset(plan.valid_rows)
        net = self.net_ if keep_net else None
        epochs_before = len(net.history) if keep_net else 0
        axes = None if keep_net else self._start_axes(plan, X, scaling, first_pass)
        with fork_rng(plan.device):
            if first_pass and not incremental:
                # Where no validation rows judge the trained model against its PCA start,
                # (at most SUMMARY_ROWS of) the training rows do (new_net decides where).
                check_rows = None
                if valid is None:
                    rows = summary_rows(len(train), plan.seed)  # indices into train, not X
                    check_rows = train if rows is None else train.subset(rows)
                net = self._train_new(
                    lambda seed: self._new_net(plan, seed, scaling, valid, axes, check_rows), train, plan.seed
                )
            else:
                if net is None:
                    net = self._new_net(plan, plan.seed, scaling, valid, axes)
                    if not first_pass:
                        continue_from(net, self.net_)
                run(net, train, epochs=1 if incremental else None)
        net.train_split = None  # the net_ must not keep (nor pickle) the validation data
        self.net_, self._scaling, self.input_shape_ = net, scaling, plan.network.input_shape
        if not keep_net:  # what the net_ was built from: sklearn_rrae.load builds it again
            self._net_plan = dataclasses.replace(plan, train_rows=None, valid_rows=None)
        self._record_curves(net.history[epochs_before:], first_pass)
        self._warn_of(net.history[epochs_before:])
        kept_on_validation = (
            self.start_validation_score_ is not None
            and self.best_validation_score_ == self.start_validation_score_
        )
        kept_on_training = bool(net.history[-1].get("start_kept", False)) if len(net.history) else False
        start_kept = kept_on_validation or kept_on_training
        if not first_pass:
            # A warm start scores the model it continues from as its start: keeping that
            # model leaves the fit as it was, PCA's solution only if it was one before.
            start_kept = start_kept and getattr(self, "start_kept_", False)
        self.start_kept_ = start_kept
        if start_kept:
            judged = (
                "found no nonlinear structure to learn: no epoch of training beat its PCA start "
                "(init='pca') on the validation rows"
                if kept_on_validation
                else "kept its PCA start (init='pca'): the trained model did not beat it on the "
                "training rows (there were no validation rows: early_stopping=True holds some out)"
            )
            warnings.warn(
                f"{type(self).__name__} {judged}, so the fitted model is PCA's solution at rank "
                f"{net.module_.n_components}. sklearn.decomposition.PCA gives it faster.",
                LinearStartKeptWarning,
                stacklevel=4,  # _fit, fit or partial_fit, sklearn's _fit_context, the caller
            )
        if incremental:
            self._store_basis(self._running_basis(data))
        else:
            for name in ("latent_gram_", "n_samples_seen_", "_rank_error_sums"):  # partial_fit's state
                self.__dict__.pop(name, None)
            self._store_basis(fit_basis(net.module_, data, net.module_.n_components, distributed))
        # The second stage; not after a kept start: that model is PCA's, on purpose.
        stage = []
        if plan.decoder_epochs and not start_kept and self._stage_can_help(plan):
            with fork_rng(plan.device):
                stage = train_decoder(
                    net.module_,
                    train,
                    valid,
                    epochs=plan.decoder_epochs,
                    dropout=plan.decoder_stage_dropout,
                    nested=self._decodes_every_rank(),
                    seed=plan.seed,
                    params=super().get_params(deep=False),
                    plan=plan,
                    to_data_units=scaling.loss_to_data_units,
                )
        self.decoder_loss_curve_, self.decoder_validation_scores_, *_ = curves(stage)
        self.decoder_n_iter_ = len(stage)
        if first_pass:
            self._density_seed, self._training_dtype = plan.seed, X.dtype
        rows = summary_rows(X.shape[0], self._density_seed)
        self._store_explained_variance(data if rows is None else data.subset(rows), incremental, distributed)
        self._select_rank()
        # partial_fit: the density of the latest chunk's codes.
        codes = self._codes(X if rows is None else gather_rows(X, rows)).astype(np.float64)
        if distributed:  # every process fits the same density on every shard's codes
            codes = np.concatenate(all_gather(codes))
        self.density_ = fit_density(self.density, codes, self._density_seed)
        return self

    def _check_same_network(self, plan):
        """Refuse a ``partial_fit`` whose parameters would build another network than the one it trains.

        A later call continues the fitted net: a changed rank, ``nested`` or network
        parameter would otherwise be ignored without a word. ``IncrementalPCA``
        refuses a changed ``n_components`` the same way.
        """
        built, now = self._net_plan.network, plan.network
        # Every field of the network's spec, named as the parameter that sets it.
        changed = [
            f"{field.name.replace('_kwargs', '__*')} {getattr(built, field.name)!r} -> "
            f"{getattr(now, field.name)!r}"
            for field in dataclasses.fields(built)
            if getattr(now, field.name) != getattr(built, field.name)
        ]
        module = self.net_.module_
        if plan.rank != module.n_components:
            changed.append(f"n_components {module.n_components!r} -> {plan.rank!r}")
        # A net trained at every rank validates at the full rank (_truncations): its two
        # truncations differ. Compared so, not by function, since a net fitted in a process
        # group and continued alone truncates with global_rank_truncate.
        trained_every_rank = module.eval_truncation is not module.truncation
        if trained_every_rank != self._decodes_every_rank():
            changed.append(f"nested {trained_every_rank!r} -> {self._decodes_every_rank()!r}")
        if changed:
            raise ValueError(
                f"partial_fit continues training the network of the previous fit, which these parameters "
                f"no longer describe (the network's -> now): {'; '.join(changed)}. Call fit to train a new "
                f"network, or set them back."
            )

    def _stage_can_help(self, plan):
        """Whether training left the decoder's second stage something to do (``plan``'s rule)."""
        fraction = plan.decoder_stage_min_start_fraction
        start, best = self.start_validation_score_, self.best_validation_score_
        if fraction is None or start is None or best is None:
            return True
        return best <= fraction * start  # scores: minus the MSEs

    def _store_explained_variance(self, data, incremental, distributed=False):
        """``explained_variance_ratio_`` on ``data`` (partial_fit: on every chunk seen so far;
        in a process group: on every process's ``data``)."""
        if self.net_.module_.n_components is None:
            self.explained_variance_ratio_ = None  # the raw latent's coordinates have no order
            return
        sse, total = rank_error_sums(self.module_, data, distributed)
        if incremental:
            # Each chunk's errors with the model of its time, like latent_gram_.
            previous = getattr(self, "_rank_error_sums", None)
            if previous is not None and len(previous[0]) == len(sse):
                sse, total = sse + previous[0], total + previous[1]
            self._rank_error_sums = (sse, total)
        self.explained_variance_ratio_ = explained_variance_ratio(sse, total)

    def _start_axes(self, plan, X, scaling, first_pass):
        """The PCA start's axes (``init``), or None; a warm start keeps those of the first fit."""
        if not plan.pca_start:
            return None
        previous = None if first_pass else getattr(self.module_.encoder, "axes", None)
        if previous is not None:
            return previous.cpu().numpy()
        return principal_axes(X, scaling, plan.rank, plan.distributed)

    def _new_net(self, plan, seed, scaling, valid, start_axes, start_check_rows=None):
        truncation, eval_truncation = self._truncations()
        return new_net(
            plan,
            seed,
            super().get_params(deep=False),
            output_gain=scaling.decoder_gain,
            to_data_units=scaling.loss_to_data_units,
            truncation=truncation,
            eval_truncation=eval_truncation,
            schedule=self._schedule(plan),
            valid=valid,
            start_axes=start_axes,
            start_check_rows=start_check_rows,
        )

    def _running_basis(self, data):
        """partial_fit's basis: from the latent Gram matrix summed over every chunk seen."""
        module = self.module_
        self.latent_gram_ = encoded_gram(module, data).cpu().numpy() + getattr(self, "latent_gram_", 0)
        self.n_samples_seen_ = getattr(self, "n_samples_seen_", 0) + len(data)
        gram = torch.from_numpy(self.latent_gram_).to(module.basis.device)
        return basis_from_gram(gram, module.n_components, module.basis.shape[1])

    def _record_curves(self, epochs, first_pass):
        """``n_iter_`` and the curves, extended by ``epochs`` (this call's history rows)."""
        losses, scores, best, start = curves(epochs)
        self.n_iter_ = (0 if first_pass else self.n_iter_) + len(epochs)
        self.loss_curve_ = ([] if first_pass else self.loss_curve_) + losses
        previous = None if first_pass else self.validation_scores_
        self.validation_scores_ = None if scores is None else (previous or []) + scores
        self.best_validation_score_ = best
        self.start_validation_score_ = start

    def _store_basis(self, basis):
        """The writer of the basis (``_keep_first_codes`` cuts it): ``components_``,
        ``singular_values_``, the module's copy."""
        self.components_ = basis.components
        self.singular_values_ = basis.singular_values
        self.n_components_ = len(basis.components)
        self.module_.set_basis(torch.from_numpy(basis.components))

    def _validate_input(self, X, reset):
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            accept_sparse=False,
            ensure_all_finite=True,
        )

    def _validate_training_input(self, X, reset):
        """``_validate_input`` with the finiteness check done chunk by chunk.

        ``validate_data`` does not copy an array that already has a float dtype;
        checking it in chunks keeps a memmap from becoming resident whole.
        """
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            accept_sparse=False,
            ensure_all_finite=False,
        )
        for block in scan(X):
            assert_all_finite(block, input_name="X", estimator_name=type(self).__name__)
        return X

    # -- inference: from the fitted module, scaling and basis only ----------------------

    @property
    def module_(self):
        """The trained torch module (``RRAEModule``)."""
        check_is_fitted(self, "net_")
        return self.net_.module_

    @property
    def _n_features_out(self):
        return self.n_components_

    def _map_rows(self, fn, X, n_out, prepare=None):
        """Apply ``fn`` (float32 tensor -> float32 tensor) to ``X`` block by block.

        ``prepare`` (numpy rows -> float32 numpy rows, e.g. the scaling) is applied
        chunk by chunk too, so no whole-size copy of ``X`` is made.

        Every call of ``fn`` gets exactly ``_BLOCK_ROWS`` rows (the last block is
        zero-padded): BLAS picks its kernel by the number of rows, and a fixed count
        makes each row's result independent of the others bit for bit, not only
        up to float32 rounding.
        """
        module = self.module_
        module.eval()
        out = np.empty((X.shape[0], n_out), dtype=np.float32)
        device = module.basis.device
        with torch.no_grad():
            for s in gen_batches(X.shape[0], CHUNK_ROWS):
                rows = np.ascontiguousarray(X[s], dtype=np.float32) if prepare is None else prepare(X[s])
                chunk = to_device(rows, device)
                n_rows = chunk.shape[0]
                pad = -n_rows % _BLOCK_ROWS
                if pad:
                    chunk = torch.cat([chunk, chunk.new_zeros(pad, chunk.shape[1])])
                result = torch.cat([fn(block) for block in chunk.split(_BLOCK_ROWS)])
                out[s] = result[:n_rows].cpu().numpy()
        return out

    def _codes(self, X):
        """Validated ``X`` (data units) to codes, float32."""
        return self._map_rows(self.module_.to_codes, X, self.n_components_, prepare=self._scaling.to_model)

    def _decode_codes(self, codes, dtype):
        Z = self._map_rows(self.module_.from_codes, codes, self.n_features_in_)
        return self._scaling.to_data(Z, dtype)

    def transform(self, X):
        """Coefficients of each sample on the global latent basis.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode. Each row is encoded on its own: its code does not
            depend on the other rows.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components_)
            ``encoder(X) @ components_.T``, in the dtype of ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        return self._codes(X).astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """Decode coefficients back to the input space, at the rank they give.

        Parameters
        ----------
        X : array-like of shape (n_samples, r)
            Coefficients, for instance the output of :meth:`transform` or its
            first ``r <= n_components_`` columns. Fewer than ``n_components_``
            columns decode the rank-``r`` model: the missing trailing
            coefficients are zero, which is the rank-``r`` truncation of the
            latent (a model fitted with ``nested=True`` is trained for it).

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            ``decoder(X @ components_[:r])`` in data units, in the dtype of ``X``.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=[np.float64, np.float32])
        if X.shape[1] > self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} features, but inverse_transform expects at most "
                f"n_components_={self.n_components_} coefficients per row."
            )
        if X.shape[1] < self.n_components_:
            X = np.hstack([X, np.zeros((X.shape[0], self.n_components_ - X.shape[1]), X.dtype)])
        return self._decode_codes(X, X.dtype)

    def at_rank(self, n_components):
        """The fitted model at a smaller rank, without training: its first ``n_components`` codes.

        One fit serves every rank up to ``n_components_``: the copy's
        :meth:`transform` returns the first ``n_components`` columns of this
        model's codes and its :meth:`inverse_transform` decodes them, so its
        :meth:`score` is the held-out error of the rank-``n_components`` model.
        Fit with ``nested=True`` (:class:`RRAETransformer`) for prefixes that
        are as good as a model trained at that rank alone.

        Parameters
        ----------
        n_components : int
            The rank, from 1 to ``n_components_``.

        Returns
        -------
        model : estimator
            A fitted deep copy whose ``n_components_``, ``components_``,
            ``singular_values_`` and ``explained_variance_ratio_`` are the first
            ``n_components`` entries of this model's; its ``n_components``
            parameter is set too, so that a clone of it trains at that rank.

        See Also
        --------
        sklearn_rrae.model_selection.rank_curve : Held-out scores at every rank,
            one fit per fold.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn_rrae import RRAETransformer
        >>> X, _ = load_digits(return_X_y=True)
        >>> rrae = RRAETransformer(n_components=5, max_epochs=5, random_state=0).fit(X)
        >>> rank2 = rrae.at_rank(2)
        >>> bool((rank2.transform(X) == rrae.transform(X)[:, :2]).all())
        True
        """
        check_is_fitted(self)
        if self.explained_variance_ratio_ is None:
            raise ValueError(
                "at_rank needs a model fitted with a rank (n_components set): the codes of "
                "n_components=None are the raw latent, whose coordinates have no order."
            )
        if (
            isinstance(n_components, bool)
            or not isinstance(n_components, numbers.Integral)
            or not 1 <= n_components <= self.n_components_
        ):
            raise ValueError(
                f"The 'n_components' parameter of at_rank must be an int in the range "
                f"[1, n_components_={self.n_components_}]. Got {n_components!r} instead."
            )
        r = int(n_components)
        model = copy.deepcopy(self)
        if "n_components" in model.get_params(deep=False):
            model.set_params(n_components=r)
        model._keep_first_codes(r)
        return model

    def _keep_first_codes(self, r):
        """Keep the first ``r`` codes: the basis, its singular values and explained variance."""
        self.components_ = self.components_[:r].copy()
        self.singular_values_ = self.singular_values_[:r].copy()
        self.explained_variance_ratio_ = self.explained_variance_ratio_[:r].copy()
        self.n_components_ = r
        self.module_.set_basis(torch.from_numpy(self.components_))

    def sample(self, n_samples=1, random_state=None):
        """Generate samples: codes drawn from the density of the training codes, decoded.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seeds the draw: an int gives the same samples at every call. The
            fitted density (``density_``) is not changed.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_in_)
            In the units and float dtype of the training data.

        See Also
        --------
        sklearn.mixture.GaussianMixture.sample : The default density's draw.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn_rrae import RRAETransformer
        >>> X, _ = load_digits(return_X_y=True)
        >>> rrae = RRAETransformer(n_components=5, max_epochs=5, random_state=0).fit(X)
        >>> rrae.sample(3, random_state=0).shape
        (3, 64)
        >>> bool((rrae.sample(3, random_state=0) == rrae.sample(3, random_state=0)).all())
        True
        """
        check_is_fitted(self)
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"The 'n_samples' parameter must be an int >= 1. Got {n_samples!r} instead.")
        if self.density_ is None:
            raise ValueError(
                "sample() needs a density of the training codes, and this model was fitted on a "
                "single row: fit it on at least 2."
            )
        # A model from at_rank keeps the density of all the codes: dropping the trailing
        # ones samples the marginal of the first n_components_.
        codes = draw(self.density_, int(n_samples), random_state)[:, : self.n_components_]
        return self._decode_codes(codes.astype(np.float32), self._training_dtype)

    def score_samples(self, X):
        """Negative mean squared reconstruction error of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-mean((X - inverse_transform(transform(X)))**2, axis=1)``; higher is better.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        X_hat = self._decode_codes(self._codes(X), np.float64)
        return -np.mean((X.astype(np.float64) - X_hat) ** 2, axis=1)

    def score(self, X, y=None):
        """Negative mean squared reconstruction error over ``X`` (higher is better).

        Not comparable with ``PCA.score``, which is a log-likelihood: to compare
        PCA and RRAE in one grid search, use
        ``scoring=sklearn_rrae.model_selection.neg_reconstruction_mse``, which
        gives this same number for RRAE.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    # -- scikit-learn and pickling --------------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def __getstate__(self):
        # A copy: on Python >= 3.11 the base returns the instance's own __dict__.
        state = dict(super().__getstate__())
        net = state.get("net_")
        if net is not None and torch.device(net.device).type != "cpu":
            # Pickle a view of the net that declares the CPU as its device: skorch then
            # maps every tensor to the CPU on load, so the pickle opens on any machine.
            cpu_view = object.__new__(type(net))
            cpu_view.__dict__.update(net.__dict__)
            cpu_view.__dict__["device"] = "cpu"
            state["net_"] = cpu_view
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        net = self.__dict__.get("net_")
        if net is not None and self.device == "auto" and torch.cuda.is_available():
            net.module_.to("cuda")
            net.device = "cuda"
