"""Shared machinery of the RRAE estimators.

Data flows one way: ``fit`` validates and scales ``X``, trains the torch module
through a skorch ``NeuralNet`` (encode -> truncate -> decode), then builds the
global latent basis from the training data; ``transform`` and
``inverse_transform`` only encode/decode and project on that stored basis.
"""

import copy
import inspect
import math
import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch import NeuralNet

from ._cnn import ConvDecoder, ConvEncoder
from ._modules import ACTIVATIONS, RRAEModule, make_mlp
from ._training import (
    BatchIterator,
    DivergenceGuard,
    TensorDataset,
    TrainingDivergedError,
    count_batches,
)
from ._truncation import top_eigenpairs

# Rows per chunk when encoding, decoding or scanning data outside training: keeps
# memory bounded whatever the number of samples.
_CHUNK_ROWS = 8192
# Rows per forward pass at inference (see BaseRRAE._map_rows); divides _CHUNK_ROWS.
_BLOCK_ROWS = 256

# max_epochs="auto": at least this many passes over the data and this many steps.
_AUTO_MIN_EPOCHS = 20
_AUTO_MIN_STEPS = 1000

# Keyword arguments routed to skorch or to the networks, the way skorch names them.
_ROUTED_PREFIXES = ("optimizer__", "encoder__", "decoder__")

# What the estimator fills in when it builds a network class, for those of these
# names the class's constructor takes, and the parameter each value comes from.
_NETWORK_ARGUMENTS = {"n_features": "the data", "latent_dim": "latent_dim", "input_shape": "input_shape"}

# Rows of the dummy batch that checks a network pair's shapes before training.
_CHECK_ROWS = 2


def _resolve_device(device):
    """Turn the ``device`` parameter into a torch device string, or raise."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"The 'device' parameter must be 'auto' or a torch device such as 'cpu' or "
            f"'cuda:0'. Got {device!r} instead."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available.")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but MPS is not available.")
    return str(resolved)


def _flip_signs(basis):
    """Deterministic signs: the largest-magnitude entry of each row is positive."""
    largest = basis.gather(1, basis.abs().argmax(dim=1, keepdim=True))
    return basis * torch.where(largest < 0, -1.0, 1.0).to(basis)


def _accepted_arguments(network_class, given):
    """The entries of ``given`` that ``network_class``'s constructor takes by name."""
    try:
        parameters = inspect.signature(network_class).parameters
    except (TypeError, ValueError):  # no introspectable signature: pass nothing
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return {k: v for k, v in given.items() if v is not None}
    return {k: v for k, v in given.items() if k in parameters}


def _describe(output):
    if isinstance(output, torch.Tensor):
        return f"a tensor of shape {tuple(output.shape)} and dtype {output.dtype}"
    return f"an object of type {type(output).__name__}"


def _check_network_shapes(encoder, decoder, n_features, latent_dim):
    """Run a dummy batch through both networks; raise if a shape does not line up.

    The networks are put in evaluation mode for it (no dropout, no batch
    statistics updated) and given back in the mode they had.
    """
    for role, network, n_in, n_out, expected in (
        ("encoder", encoder, n_features, latent_dim, "latent_dim"),
        ("decoder", decoder, latent_dim, n_features, "n_features"),
    ):
        if not isinstance(network, torch.nn.Module):
            raise TypeError(f"'{role}' must build a torch.nn.Module. It gave {network!r}.")
        parameter = next(iter(network.parameters()), None)
        dummy = torch.zeros(_CHECK_ROWS, n_in, device=None if parameter is None else parameter.device)
        was_training = network.training
        network.eval()
        try:
            with torch.no_grad():
                output = network(dummy)
        except Exception as exc:
            raise ValueError(
                f"The {role} {type(network).__name__} failed on a batch of shape {tuple(dummy.shape)}: "
                f"{exc}. The {role} must map (batch, {n_in}) to (batch, {n_out})."
            ) from exc
        finally:
            network.train(was_training)
        ok = (
            isinstance(output, torch.Tensor)
            and output.is_floating_point()
            and tuple(output.shape) == (_CHECK_ROWS, n_out)
        )
        if not ok:
            source = "n_features of X" if role == "decoder" else "the estimator's latent_dim"
            raise ValueError(
                f"The {role} {type(network).__name__} must map a float batch of shape (batch, {n_in}) to "
                f"(batch, {n_out}) ({expected}={n_out} from {source}); on a batch of shape "
                f"{tuple(dummy.shape)} it returned {_describe(output)}."
            )


def _row_chunks(n_rows, chunk=_CHUNK_ROWS):
    for start in range(0, n_rows, chunk):
        yield slice(start, min(start + chunk, n_rows))


class _Scaling:
    """Data units <-> model units: centring per feature, one global scale.

    The model sees and reconstructs ``(X - mean) / scale`` with a single scalar
    ``scale`` (the root mean feature variance), so the training MSE is the data's
    MSE up to the constant ``scale**2``: ``score`` measures what training
    minimised. Each feature's own spread enters only as a fixed gain on the
    decoder's output (:meth:`output_scale`), so constant features come back
    exactly and small features stay small.

    Per-feature standardization of the encoder's input was measured and rejected:
    it multiplies features that are almost constant in the training set (MNIST
    border pixels) by huge gains, and a test image that lights one of them up is
    encoded as garbage (held-out MSE 1.8 x PCA's on MNIST-20k instead of 0.55 x).

    Everything is computed chunk by chunk, after a division by ``max|X|`` that
    keeps huge values finite in float64.
    """

    def __init__(self, X):
        n_samples, n_features = X.shape
        magnitude = max(float(np.max(np.abs(X[s]))) for s in _row_chunks(n_samples))
        self.magnitude = magnitude if magnitude > 0 else 1.0
        total = np.zeros(n_features)
        for s in _row_chunks(n_samples):
            total += (X[s] / self.magnitude).sum(axis=0, dtype=np.float64)
        self.mean = total / n_samples
        sum_sq = np.zeros(n_features)
        for s in _row_chunks(n_samples):
            sum_sq += ((X[s] / self.magnitude - self.mean) ** 2).sum(axis=0, dtype=np.float64)
        self.feature_std = np.sqrt(sum_sq / n_samples)
        rms = float(np.sqrt(np.mean(self.feature_std**2)))
        self.scale = rms if rms > 0 else 1.0

    def forward(self, X):
        """Data units to model units, as a new float32 array."""
        out = np.empty(X.shape, dtype=np.float32)
        for s in _row_chunks(X.shape[0]):
            out[s] = (X[s] / self.magnitude - self.mean) / self.scale
        return out

    def inverse(self, Z, dtype):
        """Model units back to data units, in ``dtype``."""
        out = (Z.astype(np.float64) * self.scale + self.mean) * self.magnitude
        return out.astype(dtype, copy=False)

    def output_scale(self):
        """Each feature's spread in model units: the decoder's fixed output gain."""
        return self.feature_std / self.scale

    @property
    def data_scale(self):
        """``scale`` in data units: model-unit errors times this are data-unit errors."""
        return self.scale * self.magnitude


class BaseRRAE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the RRAE transformers. Not meant to be used directly."""

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
        "architecture": [StrOptions({"mlp", "cnn"})],
        "input_shape": ["array-like", None],
        "encoder": [type, torch.nn.Module, None],
        "decoder": [type, torch.nn.Module, None],
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
        architecture="mlp",
        input_shape=None,
        encoder=None,
        decoder=None,
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
        self.architecture = architecture
        self.input_shape = input_shape
        self.encoder = encoder
        self.decoder = decoder
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
            if key.startswith(_ROUTED_PREFIXES) or key in self._extra_params
        }
        self._extra_params = {**self._extra_params, **extra}
        return super().set_params(**params)

    def _check_extra_params(self):
        for key in self._extra_params:
            if not key.startswith(_ROUTED_PREFIXES):
                raise TypeError(
                    f"{type(self).__name__} got an unexpected parameter {key!r}. Extra "
                    f"keyword parameters must start with one of {_ROUTED_PREFIXES}."
                )

    # -- validation -------------------------------------------------------------

    def _check_params(self, n_samples, n_features):
        """Rules that involve several parameters or the data, after ``_validate_params``."""
        for name in ("hidden_layer_sizes", "decoder_hidden_layer_sizes"):
            sizes = getattr(self, name)
            if sizes is None:
                continue
            sizes = tuple(np.atleast_1d(np.asarray(sizes, dtype=object)).ravel())
            if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
                raise ValueError(f"'{name}' must be a tuple of positive ints. Got {getattr(self, name)!r}.")
        if not issubclass(self.optimizer, torch.optim.Optimizer):
            raise TypeError(
                f"'optimizer' must be a torch.optim.Optimizer subclass such as torch.optim.Adam. "
                f"Got {self.optimizer!r}."
            )
        self._resolve_input_shape(n_features)
        for role in ("encoder", "decoder"):
            self._check_network_param(role)

    def _resolve_input_shape(self, n_features):
        """``input_shape`` as (channels, height, width), its -1 inferred; None if unset."""
        shape = self.input_shape
        if shape is None:
            if self.architecture == "cnn":
                raise ValueError(
                    "architecture='cnn' needs the image size: set 'input_shape' to (channels, height, "
                    "width) or (height, width), e.g. input_shape=(28, 28) for MNIST rows of 784 "
                    "pixels, or (1, -1) to read each row as a one-dimensional signal."
                )
            return None
        sizes = tuple(np.atleast_1d(np.asarray(shape, dtype=object)).ravel())
        valid = len(sizes) in (2, 3) and all(
            isinstance(s, numbers.Integral) and (s > 0 or s == -1) for s in sizes
        )
        if not valid or sizes.count(-1) > 1:
            raise ValueError(
                f"'input_shape' must be (channels, height, width) or (height, width): positive ints, "
                f"at most one of them -1 (inferred from n_features, as in numpy.reshape). Got {shape!r}."
            )
        sizes = tuple(int(s) for s in sizes)
        known = math.prod(s for s in sizes if s != -1)
        if -1 in sizes and n_features % known == 0:
            sizes = tuple(n_features // known if s == -1 else s for s in sizes)
        if math.prod(sizes) != n_features:
            raise ValueError(
                f"input_shape={shape!r} does not match the data: X has n_features={n_features}, "
                f"which is not {'a multiple of ' if -1 in sizes else ''}{known}."
            )
        return sizes if len(sizes) == 3 else (1, *sizes)

    def _check_network_param(self, role):
        """``encoder`` / ``decoder`` is None, an nn.Module class or instance, with fitting kwargs."""
        network = getattr(self, role)
        if isinstance(network, type) and not issubclass(network, torch.nn.Module):
            raise TypeError(
                f"'{role}' must be a torch.nn.Module subclass or instance, or None. Got {network!r}."
            )
        routed = sorted(self._network_kwargs(role))
        if routed and isinstance(network, torch.nn.Module):
            raise ValueError(
                f"{', '.join(f'{role}__{k}' for k in routed)} only apply when '{role}' is a class; "
                f"'{role}' is an instance ({type(network).__name__}): configure it before passing it."
            )
        if routed and network is None and self.architecture == "mlp":
            raise ValueError(
                f"{', '.join(f'{role}__{k}' for k in routed)} only apply to a '{role}' class or to the "
                f"built-in CNN (architecture='cnn'); the built-in MLP is set by hidden_layer_sizes, "
                f"decoder_hidden_layer_sizes and activation."
            )
        taken = sorted(set(routed) & set(_NETWORK_ARGUMENTS))
        if taken:
            raise ValueError(
                f"'{role}__{taken[0]}' cannot be set: the estimator passes {taken[0]} from "
                f"{_NETWORK_ARGUMENTS[taken[0]]}."
            )

    def _network_kwargs(self, role):
        prefix = f"{role}__"
        return {k[len(prefix) :]: v for k, v in self._extra_params.items() if k.startswith(prefix)}

    def _check_rank(self, k, name, n_samples, n_features):
        """``k`` (the value of parameter ``name``) is a rank the model and data allow."""
        if k > self.latent_dim:
            raise ValueError(f"{name}={k} must be <= latent_dim={self.latent_dim}.")
        if k > min(n_samples, n_features):
            raise ValueError(
                f"{name}={k} must be <= min(n_samples, n_features)="
                f"{min(n_samples, n_features)} (n_samples={n_samples}, n_features={n_features})."
            )
        if self.batch_size <= k and n_samples > self.batch_size:
            raise ValueError(
                f"batch_size={self.batch_size} must be larger than {name}={k}: a batch "
                f"latent cannot have a rank above its number of rows."
            )

    # -- hooks for the estimators ------------------------------------------------------

    def _start_rank(self, n_samples, n_features):
        """Rank of the batch truncation when training starts (None: no truncation)."""
        raise NotImplementedError

    def _n_epochs(self, n_batches):
        """``max_epochs`` resolved; "auto" gives at least 20 epochs and 1000 steps."""
        if self.max_epochs != "auto":
            return self.max_epochs
        return max(_AUTO_MIN_EPOCHS, math.ceil(_AUTO_MIN_STEPS / n_batches))

    def _schedule_callbacks(self, rank, n_batches, n_epochs):
        """Callbacks the estimator itself adds to the training loop."""
        return []

    def _after_training(self, net):
        """Record estimator-specific fitted state from the trained net."""

    def _validate_input(self, X, reset):
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            accept_sparse=False,
            ensure_all_finite=True,
        )

    # -- fit --------------------------------------------------------------------

    def fit(self, X, y=None):
        """Train the autoencoder on ``X`` and build the global latent basis.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. It is not modified.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        self._check_extra_params()
        X = self._validate_input(X, reset=True)
        n_samples, n_features = X.shape
        self._check_params(n_samples, n_features)
        rank = self._start_rank(n_samples, n_features)
        device = _resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

        self._scaling = _Scaling(X)
        Xt = torch.from_numpy(self._scaling.forward(X)).to(device)
        fork_devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(seed)
            net = self._build_net(n_features, n_samples, rank, device, seed)
            net.initialize()
            net.module_.output_scale.copy_(torch.as_tensor(self._scaling.output_scale()))
            try:
                net.partial_fit(TensorDataset(Xt))
            except torch.linalg.LinAlgError as exc:
                raise TrainingDivergedError(
                    f"Training diverged: the batch latent is no longer finite. Lower the "
                    f"learning rate `lr` (currently {self.lr})."
                ) from exc
        self.net_ = net
        self._after_training(net)
        self.n_iter_ = len(net.history)
        with np.errstate(over="ignore"):  # data near the float64 limit: inf, not an exception
            to_data_units = np.float64(self._scaling.data_scale) ** 2
            self.loss_curve_ = [float(loss * to_data_units) for loss in net.history[:, "train_loss"]]
        self._fit_basis(Xt)
        return self

    def _build_net(self, n_features, n_samples, rank, device, seed):
        batch_size = min(self.batch_size, n_samples)
        min_batch_size = (rank or 0) + 1
        n_batches = count_batches(n_samples, batch_size, min_batch_size)
        n_epochs = self._n_epochs(n_batches)
        callbacks = [("divergence_guard", DivergenceGuard())]
        callbacks += self._schedule_callbacks(rank, n_batches, n_epochs)
        callbacks += list(self.callbacks or [])
        encoder, decoder = self._build_networks(n_features)
        return NeuralNet(
            module=RRAEModule,
            module__n_features=n_features,
            module__latent_dim=self.latent_dim,
            module__n_components=rank,
            module__hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            module__decoder_hidden_layer_sizes=(
                None if self.decoder_hidden_layer_sizes is None else tuple(self.decoder_hidden_layer_sizes)
            ),
            module__activation=self.activation,
            module__encoder=encoder,
            module__decoder=decoder,
            criterion=torch.nn.MSELoss,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=n_epochs,
            batch_size=batch_size,
            iterator_train=BatchIterator,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            iterator_train__min_batch_size=min_batch_size,
            iterator_valid=BatchIterator,
            train_split=None,
            callbacks=callbacks,
            device=device,
            verbose=self.verbose,
            # skorch formats its epoch table even when it prints nothing.
            **({} if self.verbose else {"callbacks__print_log": None}),
            **{k: v for k, v in self._extra_params.items() if k.startswith("optimizer__")},
        )

    # -- the networks -------------------------------------------------------------

    def _build_networks(self, n_features):
        """The (encoder, decoder) pair to train, checked; (None, None) for the built-in MLP.

        Classes are instantiated here (inside fit's seeded RNG scope); instances are
        deep-copied, so that fit never changes the estimator's parameters.
        """
        self.input_shape_ = self._resolve_input_shape(n_features)
        if self.architecture == "mlp" and self.encoder is None and self.decoder is None:
            return None, None
        encoder = self._build_network("encoder", n_features)
        decoder = self._build_network("decoder", n_features)
        _check_network_shapes(encoder, decoder, n_features, self.latent_dim)
        return encoder, decoder

    def _build_network(self, role, n_features):
        network = getattr(self, role)
        if isinstance(network, torch.nn.Module):
            return copy.deepcopy(network)
        kwargs = self._network_kwargs(role)
        if network is None and self.architecture == "mlp":
            # The other side is custom: this one is the MLP the estimator would build.
            sizes = self.hidden_layer_sizes if role == "encoder" else self.decoder_hidden_layer_sizes
            if sizes is None:
                sizes = tuple(reversed(tuple(self.hidden_layer_sizes)))
            widths = (n_features, self.latent_dim) if role == "encoder" else (self.latent_dim, n_features)
            return make_mlp(widths[0], tuple(sizes), widths[1], self.activation)
        if network is None:
            network = ConvEncoder if role == "encoder" else ConvDecoder
            kwargs = {"activation": self.activation, **kwargs}
            if role == "decoder":
                # The built-in decoder mirrors the encoder's layers unless told otherwise.
                encoder_kwargs = self._network_kwargs("encoder")
                mirrored = {k: encoder_kwargs[k] for k in ("channels", "kernel_size") if k in encoder_kwargs}
                kwargs = {**mirrored, **kwargs}
        given = {"n_features": n_features, "latent_dim": self.latent_dim, "input_shape": self.input_shape_}
        kwargs = {**_accepted_arguments(network, given), **kwargs}
        try:
            return network(**kwargs)
        except (TypeError, ValueError) as exc:
            raise type(exc)(
                f"Could not build the {role} {network.__name__}(**{kwargs!r}): {exc}. Arguments go "
                f"to it as {role}__<name>=...; the estimator passes n_features, latent_dim and "
                f"input_shape to the constructors that take them."
            ) from exc

    def _fit_basis(self, Xt):
        """Global latent basis: top right singular vectors of the encoded training set.

        This is the paper's first recipe (v1). ``benchmarks/basis_recipes.py``
        compares it with the authors' later recipe (stacked per-batch bases) and
        with a decoder fine-tuning on top: both recipes find the same subspace
        (0.2 degrees apart) and the same held-out error, and the fine-tuning helps
        MNIST by 5 % but multiplies the shifted-sine error by 7, so neither is used.

        The SVD goes through the smaller Gram matrix, in float64: N x N when there
        are fewer samples N than latent dimensions L (the encoded set is then
        small), else L x L accumulated chunk by chunk; only its top ``k``
        eigenpairs are computed. Without truncation (``n_components=None``) the
        code is the latent itself: the basis is the identity and only the
        singular values are computed.
        """
        module = self.net_.module_
        n_samples, L = Xt.shape[0], self.latent_dim
        module.eval()
        with torch.no_grad():
            if n_samples < L:
                Z = torch.cat([module.encode(Xt[s]) for s in _row_chunks(n_samples)]).double()
                gram = Z @ Z.mT
            else:
                gram = torch.zeros(L, L, dtype=torch.float64, device=Xt.device)
                for s in _row_chunks(n_samples):
                    Z = module.encode(Xt[s]).double()
                    gram += Z.mT @ Z
        k = module.n_components
        if k is None:
            evals = torch.linalg.eigvalsh(gram).flip(-1).clamp_min(0)
            self.n_components_ = L
            self.singular_values_ = np.zeros(L)
            self.singular_values_[: len(evals)] = evals[:L].sqrt().cpu().numpy()
            self.components_ = np.eye(L)
            return
        evals, vecs = top_eigenpairs(gram, k)
        if n_samples < L:
            # Right singular vectors from the left ones; QR only guards against
            # vanishing singular values (a latent of rank below k).
            vecs = Z.mT @ (vecs / evals.sqrt().clamp_min(torch.finfo(Z.dtype).tiny))
            vecs = torch.linalg.qr(vecs).Q
        basis = _flip_signs(vecs.mT)
        module.set_basis(basis.to(torch.float32))
        self.n_components_ = k
        self.singular_values_ = evals.sqrt().cpu().numpy()
        self.components_ = basis.cpu().numpy()

    # -- inference ----------------------------------------------------------------

    @property
    def module_(self):
        """The trained torch module (``RRAEModule``)."""
        check_is_fitted(self, "net_")
        return self.net_.module_

    @property
    def _n_features_out(self):
        return self.n_components_

    def _module_device(self):
        return self.net_.module_.basis.device

    def _map_rows(self, fn, X, n_out):
        """Apply ``fn`` (float32 tensor -> float32 tensor) to ``X`` block by block.

        Every call of ``fn`` gets exactly ``_BLOCK_ROWS`` rows (the last block is
        zero-padded): BLAS picks its kernel by the number of rows, and a fixed count
        makes each row's result independent of the others bit for bit, not only
        up to float32 rounding.
        """
        module = self.net_.module_
        module.eval()
        out = np.empty((X.shape[0], n_out), dtype=np.float32)
        device = self._module_device()
        with torch.no_grad():
            for s in _row_chunks(X.shape[0]):
                chunk = torch.from_numpy(np.ascontiguousarray(X[s], dtype=np.float32)).to(device)
                n_rows = chunk.shape[0]
                pad = -n_rows % _BLOCK_ROWS
                if pad:
                    chunk = torch.cat([chunk, chunk.new_zeros(pad, chunk.shape[1])])
                result = torch.cat([fn(block) for block in chunk.split(_BLOCK_ROWS)])
                out[s] = result[:n_rows].cpu().numpy()
        return out

    def _codes(self, X):
        """Validated ``X`` (data units) to codes, float32."""
        return self._map_rows(self.net_.module_.to_codes, self._scaling.forward(X), self.n_components_)

    def _decode_codes(self, codes, dtype):
        Z = self._map_rows(self.net_.module_.from_codes, codes, self.n_features_in_)
        return self._scaling.inverse(Z, dtype)

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
        """Decode coefficients back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components_)
            Coefficients, for instance the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            ``decoder(X @ components_)`` in data units, in the dtype of ``X``.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=[np.float64, np.float32])
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} features, but inverse_transform expects "
                f"n_components_={self.n_components_} coefficients per row."
            )
        return self._decode_codes(X, X.dtype)

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
