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
from sklearn.manifold import trustworthiness
from sklearn.model_selection import train_test_split
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.helper import predefined_split

from ._cnn import ConvDecoder, ConvEncoder
from ._modules import ACTIVATIONS, RRAEModule, make_mlp
from ._training import (
    ArrayDataset,
    BatchIterator,
    DivergenceGuard,
    TensorDataset,
    TrainingDivergedError,
    count_batches,
    row_chunks,
    scan,
    to_device,
)
from ._truncation import top_eigenpairs

# Encoding, decoding and scanning data outside training go by chunks of _training.CHUNK_ROWS
# rows, which keeps memory bounded whatever the number of samples.
# Rows per forward pass at inference (see BaseRRAE._map_rows); divides CHUNK_ROWS.
_BLOCK_ROWS = 256
# Training data whose scaled float32 copy is at most this large is scaled once and
# held as one tensor on the training device (one transfer to a GPU); larger data,
# e.g. a memmap, is read, scaled and moved batch by batch (ArrayDataset).
_WHOLE_TENSOR_MAX_BYTES = 256 * 2**20

# max_epochs="auto": at least this many passes over the data and this many steps.
_AUTO_MIN_EPOCHS = 20
_AUTO_MIN_STEPS = 1000

# n_init > 1: each start trains for this fraction of the epochs, and is judged on
# the trustworthiness (this many neighbours) of the codes of at most this many rows.
_INIT_EPOCH_FRACTION = 0.2
_INIT_NEIGHBORS = 10
_INIT_SCORE_ROWS = 1000

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


def _fork_rng(device):
    """``torch.random.fork_rng`` over the CPU and, when training there, ``device``."""
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    return torch.random.fork_rng(devices=devices)


def _code_trustworthiness(net, data, seed):
    """How well the net's codes keep the neighbourhoods of (a sample of) ``data``.

    :func:`sklearn.manifold.trustworthiness` of the codes against the rows in
    model units, with the codes taken on the rank-k basis of these rows' latents
    (the global basis does not exist yet). At most ``_INIT_SCORE_ROWS`` rows,
    drawn from ``seed``, keep its quadratic cost bounded.
    """
    n_rows = len(data)
    rows = np.arange(n_rows)
    if n_rows > _INIT_SCORE_ROWS:
        rows = np.sort(np.random.RandomState(seed).choice(n_rows, _INIT_SCORE_ROWS, replace=False))
    X = torch.cat(list(data.subset(rows).chunks()))
    module = net.module_
    module.eval()
    with torch.no_grad():
        Z = module.encode(X).double()
    module.train()
    k = module.n_components
    if k is not None and k < min(Z.shape):
        Z = Z @ torch.linalg.svd(Z, full_matrices=False).Vh[:k].mT
    n_neighbors = min(_INIT_NEIGHBORS, (len(rows) - 1) // 2)
    if n_neighbors < 1 or not torch.isfinite(Z).all():
        return -np.inf
    return trustworthiness(X.cpu().double().numpy(), Z.cpu().numpy(), n_neighbors=n_neighbors)


def _continue_training(net, previous):
    """Start ``net`` (new, initialized) from the weights and optimizer state of ``previous``.

    The stored basis is not carried over: it is rebuilt after training. The
    optimizer keeps its state (Adam's moments, say) but takes its
    hyperparameters (``lr``, ``optimizer__*``) from ``net``, that is from the
    current parameters.
    """
    state = {k: v for k, v in previous.module_.state_dict().items() if k != "basis"}
    try:
        loaded = net.module_.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise ValueError(
            "warm_start=True continues from the weights of the previous fit, but the "
            "network's architecture (latent_dim, hidden layer sizes) changed since then. "
            "Refit with warm_start=False."
        ) from exc
    if loaded.unexpected_keys or set(loaded.missing_keys) != {"basis"}:
        raise ValueError("warm_start=True: the previous fit's network does not match the current one.")
    if type(net.optimizer_) is type(previous.optimizer_):
        current = [{k: v for k, v in g.items() if k != "params"} for g in net.optimizer_.param_groups]
        net.optimizer_.load_state_dict(previous.optimizer_.state_dict())
        for group, hyper in zip(net.optimizer_.param_groups, current, strict=True):
            group.update(hyper)


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

    Everything is computed chunk by chunk (a memmap is never resident whole),
    after a division by ``max|X|`` that keeps huge values finite in float64.
    """

    def __init__(self, X):
        n_samples, n_features = X.shape
        magnitude = max(float(np.max(np.abs(block))) for block in scan(X))
        self.magnitude = magnitude if magnitude > 0 else 1.0
        total = np.zeros(n_features)
        for block in scan(X):
            total += (block / self.magnitude).sum(axis=0, dtype=np.float64)
        self.mean = total / n_samples
        sum_sq = np.zeros(n_features)
        for block in scan(X):
            sum_sq += ((block / self.magnitude - self.mean) ** 2).sum(axis=0, dtype=np.float64)
        self.feature_std = np.sqrt(sum_sq / n_samples)
        rms = float(np.sqrt(np.mean(self.feature_std**2)))
        self.scale = rms if rms > 0 else 1.0

    def forward(self, X):
        """Data units to model units, as a new float32 array."""
        out = np.empty(X.shape, dtype=np.float32)
        for s in row_chunks(X.shape[0]):
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
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
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
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
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
        self._validate_params()
        self._check_extra_params()
        warm = self.warm_start and hasattr(self, "net_")
        X = self._validate_training_input(X, reset=not warm)
        n_samples, n_features = X.shape
        self._check_params(n_samples, n_features)
        rank = self._start_rank(n_samples, n_features)
        device = _resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        if not warm:
            self._scaling = _Scaling(X)
        data = self._training_data(X, device)
        train, valid = self._split(data, seed, rank)
        with _fork_rng(device):
            if warm:
                net = self._new_net(n_features, len(train), rank, device, seed, valid)
                _continue_training(net, self.net_)
                self._run(net, train)
                start_scores = None
            else:
                net, start_scores = self._train_best_start(n_features, train, rank, device, seed, valid)
        net.train_split = None  # the net_ must not keep (nor pickle) the validation data
        self._record_training(net, warm)
        if self._n_init() is not None:
            self.init_scores_ = start_scores
        for name in ("latent_gram_", "n_samples_seen_"):  # partial_fit's state
            self.__dict__.pop(name, None)
        self._fit_basis(data)
        return self

    def _n_init(self):
        """``n_init`` of the estimators that have one (they override this); None: one start."""
        return None

    def _new_net(self, n_features, n_samples, rank, device, seed, valid=None):
        """A freshly initialised net whose weights come from ``seed``."""
        torch.manual_seed(seed)
        net = self._build_net(n_features, n_samples, rank, device, seed, valid=valid)
        net.initialize()
        net.module_.output_scale.copy_(torch.as_tensor(self._scaling.output_scale()))
        return net

    def _train_best_start(self, n_features, train, rank, device, seed, valid):
        """Train from scratch; with ``n_init > 1``, from the start whose codes fold the data least.

        Returns the trained net and each start's score (None with one start).

        Whether the codes of a start fold the data (distant samples mapped
        close together, which ruins interpolation between codes while the
        training error stays small) is settled early in training, so every start
        gets only ``_INIT_EPOCH_FRACTION`` of the epochs; the best is then
        trained for the rest. The first start uses ``seed`` itself, so
        ``n_init=1`` is the plain fit.
        """
        n_init = self._n_init() or 1
        net = self._new_net(n_features, len(train), rank, device, seed, valid)
        if n_init == 1:
            self._run(net, train)
            return net, None
        n_epochs = net.max_epochs
        trial_epochs = max(1, round(_INIT_EPOCH_FRACTION * n_epochs))
        seeds = [seed, *np.random.RandomState(seed).randint(np.iinfo(np.int32).max, size=n_init - 1)]
        scores, best = [], None
        for i, start_seed in enumerate(seeds):
            if i:
                net = self._new_net(n_features, len(train), rank, device, int(start_seed), valid)
            self._run(net, train, epochs=trial_epochs)
            scores.append(_code_trustworthiness(net, train, seed))
            if best is None or scores[-1] > max(scores[:-1]):
                best = net
        if n_epochs > trial_epochs:
            self._run(best, train, epochs=n_epochs - trial_epochs)
        return best, np.asarray(scores)

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

    def _training_data(self, X, device):
        """``X`` in model units as a dataset: one device tensor when it fits, else lazy."""
        if X.shape[0] * X.shape[1] * 4 <= _WHOLE_TENSOR_MAX_BYTES:
            return TensorDataset(torch.from_numpy(self._scaling.forward(X)).to(device))
        return ArrayDataset(X, self._scaling.forward, device)

    def _split(self, data, seed, rank):
        """(training, validation) datasets; a seeded split only with early stopping."""
        if not self.early_stopping:
            return data, None
        n_samples = len(data)
        try:
            train_rows, valid_rows = train_test_split(
                np.arange(n_samples), test_size=self.validation_fraction, random_state=seed
            )
        except ValueError as exc:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves no sample to train "
                f"on with n_samples={n_samples}."
            ) from exc
        if rank is not None and len(train_rows) <= rank:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves {len(train_rows)} "
                f"training samples, not more than the rank {rank}."
            )
        return data.subset(np.sort(train_rows)), data.subset(np.sort(valid_rows))

    def _early_stopping(self):
        """MLPRegressor's rule on the validation loss: ``tol`` better within
        ``n_iter_no_change`` epochs, else stop and go back to the best weights."""
        return EarlyStopping(
            monitor="valid_loss",
            patience=self.n_iter_no_change,
            threshold=self.tol,
            threshold_mode="abs",
            load_best=True,
        )

    def _run(self, net, dataset, epochs=None):
        """``net.partial_fit`` with a clear error when the eigensolver meets a non-finite latent."""
        try:
            net.partial_fit(dataset, epochs=epochs)
        except torch.linalg.LinAlgError as exc:
            raise TrainingDivergedError(
                f"Training diverged: the batch latent is no longer finite. Lower the "
                f"learning rate `lr` (currently {self.lr})."
            ) from exc

    def _record_training(self, net, warm):
        """Fitted attributes from the net's history; warm starts extend the curves."""
        self.net_ = net
        self._after_training(net)
        with np.errstate(over="ignore"):  # data near the float64 limit: inf, not an exception
            to_data_units = np.float64(self._scaling.data_scale) ** 2
            losses = [float(loss * to_data_units) for loss in net.history[:, "train_loss"]]
            valid = net.history[:, "valid_loss"] if self.early_stopping else []
            scores = [-float(loss * to_data_units) for loss in valid]
        self.n_iter_ = (self.n_iter_ if warm else 0) + len(net.history)
        self.loss_curve_ = (self.loss_curve_ if warm else []) + losses
        if not self.early_stopping:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            return
        previous = getattr(self, "validation_scores_", None) if warm else None
        self.validation_scores_ = (previous or []) + scores
        # The score of the weights kept: EarlyStopping restores its best epoch.
        best_epoch = dict(net.callbacks_)["early_stopping"].best_epoch_
        self.best_validation_score_ = scores[best_epoch - 1] if best_epoch else scores[-1]

    def _build_net(self, n_features, n_samples, rank, device, seed, valid=None):
        batch_size = min(self.batch_size, n_samples)
        min_batch_size = (rank or 0) + 1
        n_batches = count_batches(n_samples, batch_size, min_batch_size)
        n_epochs = self._n_epochs(n_batches)
        callbacks = [("divergence_guard", DivergenceGuard())]
        callbacks += self._schedule_callbacks(rank, n_batches, n_epochs)
        if valid is not None:
            callbacks.append(("early_stopping", self._early_stopping()))
        if self.verbose:
            callbacks.append(("progress_bar", ProgressBar()))
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
            iterator_valid__min_batch_size=min_batch_size,
            train_split=None if valid is None else predefined_split(valid),
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

    def _fit_basis(self, data):
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
        singular values are computed. With early stopping, all of ``X`` (training
        and validation rows) is encoded.
        """
        module = self.net_.module_
        if len(data) < self.latent_dim:
            module.eval()
            with torch.no_grad():
                Z = torch.cat([module.encode(chunk) for chunk in data.chunks()]).double()
            self._set_basis(Z @ Z.mT, Z)
        else:
            self._set_basis(self._latent_gram(data))

    def _latent_gram(self, data):
        """``Z.T @ Z`` (L x L, float64) of the encoded ``data``, chunk by chunk."""
        module = self.net_.module_
        module.eval()
        L = module.basis.shape[1]
        gram = torch.zeros(L, L, dtype=torch.float64, device=self._module_device())
        with torch.no_grad():
            for chunk in data.chunks():
                Z = module.encode(chunk).double()
                gram += Z.mT @ Z
        return gram

    def _set_basis(self, gram, Z=None):
        """Store the top eigenvectors of a latent Gram matrix as the global basis.

        ``gram`` is ``Z.T @ Z`` (L x L), or ``Z @ Z.T`` (N x N) with the latents
        ``Z`` given, whose left singular vectors are then turned into right ones.
        """
        module = self.net_.module_
        L = module.basis.shape[1]
        k = module.n_components
        if k is None:
            evals = torch.linalg.eigvalsh(gram).flip(-1).clamp_min(0)
            self.n_components_ = L
            self.singular_values_ = np.zeros(L)
            self.singular_values_[: len(evals)] = evals[:L].sqrt().cpu().numpy()
            self.components_ = np.eye(L)
            return
        evals, vecs = top_eigenpairs(gram, k)
        if Z is not None:
            # Right singular vectors from the left ones; QR only guards against
            # vanishing singular values (a latent of rank below k).
            vecs = Z.mT @ (vecs / evals.sqrt().clamp_min(torch.finfo(Z.dtype).tiny))
            vecs = torch.linalg.qr(vecs).Q
        basis = _flip_signs(vecs.mT)
        module.set_basis(basis.to(torch.float32))
        self.n_components_ = k
        self.singular_values_ = evals.sqrt().cpu().numpy()
        self.components_ = basis.cpu().numpy()

    # -- streaming ----------------------------------------------------------------

    def _partial_fit(self, X):
        """One epoch on the chunk ``X``, then the basis from the running latent Gram.

        The first call (on an unfitted estimator) builds the model and takes the
        scaling statistics from this chunk; later calls keep the net, its
        optimizer state and its shuffling generator.
        """
        first = not hasattr(self, "net_")
        if first:
            self._validate_params()
            self._check_extra_params()
        X = self._validate_training_input(X, reset=first)
        n_samples, n_features = X.shape
        if first:
            self._check_params(n_samples, n_features)
        rank = self._start_rank(n_samples, n_features)
        if first:
            device = _resolve_device(self.device)
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            self._scaling = _Scaling(X)
            with _fork_rng(device):
                net = self._new_net(n_features, n_samples, rank, device, seed)
            self.n_iter_, self.loss_curve_ = 0, []
            if self._n_init() is not None:
                self.init_scores_ = None
        else:
            net = self.net_
            device = str(net.device)
            # After a fit with early stopping: no validation split here.
            net.callbacks_ = [(name, cb) for name, cb in net.callbacks_ if name != "early_stopping"]
        data = self._training_data(X, device)
        with _fork_rng(device):
            self._run(net, data, epochs=1)
        self.net_ = net
        with np.errstate(over="ignore"):
            to_data_units = np.float64(self._scaling.data_scale) ** 2
            self.loss_curve_ = self.loss_curve_ + [float(net.history[-1, "train_loss"] * to_data_units)]
        self.n_iter_ += 1
        self.validation_scores_ = None
        self.best_validation_score_ = None
        gram = self._latent_gram(data).cpu().numpy()
        if hasattr(self, "latent_gram_"):
            gram += self.latent_gram_
        self.latent_gram_ = gram
        self.n_samples_seen_ = getattr(self, "n_samples_seen_", 0) + n_samples
        self._set_basis(torch.from_numpy(gram).to(self._module_device()))
        return self

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

    def _map_rows(self, fn, X, n_out, prepare=None):
        """Apply ``fn`` (float32 tensor -> float32 tensor) to ``X`` block by block.

        ``prepare`` (numpy rows -> float32 numpy rows, e.g. the scaling) is applied
        chunk by chunk too, so no whole-size copy of ``X`` is made.

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
            for s in row_chunks(X.shape[0]):
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
        module = self.net_.module_
        return self._map_rows(module.to_codes, X, self.n_components_, prepare=self._scaling.forward)

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
