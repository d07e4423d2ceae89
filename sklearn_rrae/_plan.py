"""From the parameters and the data's shape to a plain, frozen training plan.

Every check that involves several parameters or the data happens here, once,
before anything is built: what comes out is the device, the seed, the rank, the
batch arithmetic, the number of epochs, the validation rows and the network
spec, which the rest of the fit only reads.
"""

import inspect
import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from ._data import batches
from ._distributed import all_gather, broadcast
from ._networks import ARCHITECTURES, NetworkSpec, check_network_param

# Keyword arguments routed to skorch or to the networks, the way skorch names them.
ROUTED_PREFIXES = ("optimizer__", "encoder__", "decoder__")

# max_epochs="auto": at least this many passes over the data and this many steps.
_AUTO_MIN_EPOCHS = 20
_AUTO_MIN_STEPS = 1000
# early_stopping="auto": validation-based stopping wherever the split gives at least
# this many validation rows. The paper's shifted sine has 17 training signals, and 2 of
# them held out cannot tell a trained model from its start (it kept the PCA start: 65 %
# relative error, 3.4 % when all 17 train). Small data need it most (Olivetti's 320
# faces: 1.109 x PCA's held-out MSE without it; MNIST-1000: 1.007 x), and large data
# lose nothing to it: MNIST-20k at k = 10, seeds 0-2, held-out MSE 0.4765 / 0.4756 /
# 0.4754 x PCA's against 0.4799 / 0.4800 / 0.4796 with every row training (17-19 s
# either way). Up to 2026-12-07 it was off above 10,000 rows, and on wine's 124 source
# rows resampled with jitter to 14,000 the model memorised the sources (held-out 1.007 x
# PCA's at k = 5, seed 0); with validation rows 1.000 on seeds 0-2 (benchmarks/NOTES.md).
_AUTO_MIN_VALID_ROWS = 10
# n_iter_no_change="auto": this fraction of the epochs, at least this many. A
# patience of 10 stopped the swiss roll at its PCA start (1.000 x PCA's MSE; 0.156 x
# with 50 of its 167 epochs; benchmarks/NOTES.md).
_AUTO_PATIENCE_FRACTION = 0.25
_AUTO_MIN_PATIENCE = 10
# decoder_epochs="auto": this fraction of the epochs on data of more than
# _AUTO_DECODER_STAGE_MIN_ROWS rows, none below. MNIST-20k, k = 10, 10 of its 20 epochs:
# held-out MSE 2.8 % lower, sample()'s Frechet distance 0.88-0.93 x, fits 1.16-1.33 x
# (seeds 0-2; 30 training epochs instead gained as much for 1.40-1.46 x). Below, 50
# validated stage epochs changed nothing on Olivetti, the digits and breast cancer and
# moved MNIST-1000 by +-0.5 %; unvalidated, an earlier decoder stage multiplied the
# shifted sine's error (17 rows) by 7 (benchmarks/NOTES.md).
_AUTO_DECODER_EPOCHS_FRACTION = 0.5
_AUTO_DECODER_STAGE_MIN_ROWS = 10_000
# ... and where validation rows judge it on data with more features than training
# rows, this fraction, with dropout in the decoder (decoder_dropout="auto"): the stage
# keeps the decoder it starts from unless an epoch beats it beyond noise. Olivetti
# faces at k = 5 (288 training rows of 4,096 pixels), seeds 0-2: held-out MSE 0.779 /
# 0.790 / 0.773 x PCA's from 0.833 / 0.809 / 0.813, fits of 19-21 s from 10-13 s; 0.5
# of the epochs (250) without the weight average kept seed 0's decoder, and dropout 0.5
# gained nothing. On data with fewer features than rows (the digits, the swiss roll,
# breast cancer, diabetes, iris, MNIST-1000) no stage replaced the trained decoder, and
# the fits took 1.2-1.4 x as long: none there (benchmarks/NOTES.md, "Dropout in a
# validated second stage").
_AUTO_VALIDATED_DECODER_EPOCHS_FRACTION = 0.6
_AUTO_STAGE_DROPOUT = 0.3
# ... and only where training ended at a validation MSE of at least this fraction of
# its PCA start's: a model that halves PCA's error on held-out rows generalises, and
# dropout has nothing to regularise there. Olivetti (where the stage pays) ended at
# 0.685-0.92 of its start, MNIST-500 at 0.78-0.82; the paper's noise-free synthetic
# problems at 0.002-0.30, where the stage never replaced the trained decoder and cost
# 1-4 s of 7-25 s fits (benchmarks/NOTES.md, "The paper's synthetic problems against
# the code issue 17 was filed on").
_AUTO_STAGE_MIN_START_FRACTION = 0.5


@dataclass(frozen=True)
class TrainingPlan:
    """What one fit trains, resolved from the parameters and the data's shape."""

    device: str
    seed: int | None  # None: no new net is built (a later partial_fit call)
    rank: int | None  # the batch truncation's rank when training starts; None: none
    batch_size: int  # capped at the number of training rows
    min_batch_size: int  # a last batch below this is merged: it must exceed the rank
    n_batches: int
    n_epochs: int
    train_rows: np.ndarray | None  # None: all rows
    valid_rows: np.ndarray | None  # None: no validation split
    patience: int  # epochs without improvement before the early stopping ends training
    pca_start: bool  # init="pca": the networks start as PCA on the top `rank` axes
    network: NetworkSpec  # with the resolved input shape
    optimizer_kwargs: dict
    # Inside a torch.distributed process group: this process trains one shard of the rows.
    distributed: bool = False
    decoder_epochs: int = 0  # of the second stage (the decoder on the global basis); 0: none
    # The built-in MLP decoder's dropout rate in that stage (None: another decoder, left as it is).
    decoder_stage_dropout: float | None = 0.0
    # The stage runs only if training's best validation MSE is at least this fraction of
    # the PCA start's (decoder_epochs="auto" with dropout); None: whatever training reached.
    decoder_stage_min_start_fraction: float | None = None


def auto_epochs(n_batches, epochs_factor=1):
    """``max_epochs="auto"``: ``epochs_factor`` times (at least ``_AUTO_MIN_EPOCHS`` passes and
    ``_AUTO_MIN_STEPS`` steps)."""
    return epochs_factor * max(_AUTO_MIN_EPOCHS, math.ceil(_AUTO_MIN_STEPS / n_batches))


def resolve_device(device):
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


def routed(params, prefix):
    """``{name: value}`` of the parameters given as ``<prefix>__<name>``."""
    prefix = f"{prefix}__"
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


def check_optimizer_kwargs(optimizer, kwargs):
    """``kwargs`` (from ``optimizer__<name>``), once checked against ``optimizer``'s signature.

    Otherwise the optimizer's own ``TypeError`` comes from inside skorch's
    initialisation and names ``<name>``, not the parameter the user set.
    """
    try:
        signature = inspect.signature(optimizer)
    except (TypeError, ValueError):  # no signature to read: the optimizer will say
        return kwargs
    try:
        signature.bind_partial(None, **kwargs)  # the first argument: the parameters to train
    except TypeError:
        names = [name for i, name in enumerate(signature.parameters) if i > 0]
        unknown = sorted(f"optimizer__{name}" for name in kwargs if name not in names)
        raise TypeError(
            f"{', '.join(unknown) or 'optimizer__*'} is not an argument of "
            f"{getattr(optimizer, '__name__', optimizer)}, which takes {', '.join(names)}."
        ) from None
    return kwargs


def check_rank(k, name, latent_dim, batch_size, n_samples, n_features):
    """``k`` (the value of parameter ``name``) is a rank the model and data allow."""
    if k > latent_dim:
        raise ValueError(f"{name}={k} must be <= latent_dim={latent_dim}.")
    if k > min(n_samples, n_features):
        raise ValueError(
            f"{name}={k} must be <= min(n_samples, n_features)="
            f"{min(n_samples, n_features)} (n_samples={n_samples}, n_features={n_features})."
        )
    if batch_size <= k and n_samples > batch_size:
        raise ValueError(
            f"batch_size={batch_size} must be larger than {name}={k}: a batch "
            f"latent cannot have a rank above its number of rows."
        )


def check_shards(n_samples, n_features):
    """Every process's number of rows, after checking that all shards have the same features."""
    shapes = all_gather((int(n_samples), int(n_features)))
    if len({f for _, f in shapes}) > 1:
        raise ValueError(
            f"The processes' shards of X have different numbers of features: "
            f"{[f for _, f in shapes]} (in rank order). Every process must pass rows of the same features."
        )
    return [n for n, _ in shapes]


def _check_routed(extra, estimator_name):
    for key in extra:
        if not key.startswith(ROUTED_PREFIXES):
            raise TypeError(
                f"{estimator_name} got an unexpected parameter {key!r}. Extra "
                f"keyword parameters must start with one of {ROUTED_PREFIXES}."
            )


def _sizes(params, name):
    sizes = params[name]
    if sizes is None:
        return None
    sizes = tuple(np.atleast_1d(np.asarray(sizes, dtype=object)).ravel())
    if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
        raise ValueError(f"'{name}' must be a tuple of positive ints. Got {params[name]!r}.")
    return tuple(int(s) for s in sizes)


def resolve_input_shape(shape, architecture, n_features):
    """``input_shape`` as (channels, height, width), its -1 inferred; None if unset."""
    if shape is None:
        if ARCHITECTURES[architecture].needs_input_shape:
            raise ValueError(
                f"architecture={architecture!r} needs the image size: set 'input_shape' to (channels, "
                "height, width) or (height, width), e.g. input_shape=(28, 28) for MNIST rows of 784 "
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


def _built_in_mlp(params):
    return params["architecture"] == "mlp" and params["encoder"] is None and params["decoder"] is None


def _resolve_init(params, rank, auto_pca):
    """Whether the networks start as PCA: ``init="pca"``, or ``"auto"`` where it can and ``auto_pca``."""
    built_in_mlp = _built_in_mlp(params)
    if params["init"] == "auto":
        return auto_pca and built_in_mlp and rank is not None
    if params["init"] == "pca" and not built_in_mlp:
        raise ValueError(
            "init='pca' starts the built-in MLP as PCA; it does not apply to architecture='cnn' "
            "nor to a custom encoder or decoder. Use init='random' (or 'auto', which picks it there)."
        )
    if params["init"] == "pca" and rank is None:
        raise ValueError("init='pca' needs a rank: set n_components (None trains a plain autoencoder).")
    return params["init"] == "pca"


def _resolve_decoder_epochs(params, rank, n_samples, n_epochs, distributed, incremental, dropout_stage):
    """Epochs of the decoder's second stage: ``decoder_epochs``, "auto" resolved; 0: no stage.

    ``dropout_stage``: validation rows judge the stage, the data have more features
    than training rows and the fit starts as PCA (where dropout in the stage was
    measured to help).
    """
    epochs = params["decoder_epochs"]
    if epochs == "auto":
        # The built-in MLP only, where it was measured: the CNN's decoder is most of its
        # step, and its 60,000-image fit took 430-440 s of the 600 s bar with 20 epochs.
        if not _built_in_mlp(params) or distributed:
            epochs = 0
        elif dropout_stage:
            epochs = math.ceil(_AUTO_VALIDATED_DECODER_EPOCHS_FRACTION * n_epochs)
        elif n_samples > _AUTO_DECODER_STAGE_MIN_ROWS:
            epochs = math.ceil(_AUTO_DECODER_EPOCHS_FRACTION * n_epochs)
        else:
            epochs = 0
    if epochs and distributed:
        raise ValueError(
            f"decoder_epochs={epochs} is not supported inside a torch.distributed process group; "
            f"use 0 there ('auto' is 0 there)."
        )
    if rank is None or incremental:
        return 0  # no basis to decode on (a plain autoencoder); partial_fit: one epoch only
    return epochs


def _resolve_decoder_dropout(params, stage_epochs, dropout_stage):
    """(training's, the second stage's) dropout rate in the built-in MLP decoder.

    ``"auto"``: none in training; ``_AUTO_STAGE_DROPOUT`` in a second stage that
    validation rows judge, on data with more features than training rows, after a
    PCA start (``dropout_stage``; the stage keeps the decoder it starts from unless
    dropout's beats it). A number: that rate in both, for the built-in MLP
    decoder only. The stage's rate is None for another decoder: its own dropout
    layers, if any, are left as their author set them.
    """
    dropout = params["decoder_dropout"]
    built_in_decoder = params["architecture"] == "mlp" and params["decoder"] is None
    if dropout == "auto":
        if not built_in_decoder:
            return 0.0, None
        return 0.0, (_AUTO_STAGE_DROPOUT if dropout_stage and stage_epochs else 0.0)
    dropout = float(dropout)
    if dropout and not built_in_decoder:
        raise ValueError(
            f"decoder_dropout={dropout} applies to the built-in MLP decoder; the decoder here is "
            f"{'the built-in CNN' if params['decoder'] is None else 'a custom network'}. Put dropout in "
            f"a decoder of your own, or leave decoder_dropout='auto'."
        )
    return dropout, dropout


def _split_rows(n_samples, fraction, seed, rank):
    """(training rows, validation rows), a split seeded by ``seed``."""
    try:
        train_rows, valid_rows = train_test_split(np.arange(n_samples), test_size=fraction, random_state=seed)
    except ValueError as exc:
        raise ValueError(
            f"validation_fraction={fraction} leaves no sample to train on with n_samples={n_samples}."
        ) from exc
    if rank is not None and len(train_rows) <= rank:
        raise ValueError(
            f"validation_fraction={fraction} leaves {len(train_rows)} training samples, "
            f"not more than the rank {rank}."
        )
    return np.sort(train_rows), np.sort(valid_rows)


def plan_training(
    params,
    extra,
    estimator_name,
    n_samples,
    n_features,
    rank_of,
    *,
    epochs_factor=1,
    auto_pca_start=True,
    incremental=False,
    device=None,
    integer_params=(),
    distributed=False,
):
    """The :class:`TrainingPlan` of a fit, or a clear error naming the parameter.

    Parameters
    ----------
    params : dict
        The estimator's declared parameters, already checked one by one
        (``_parameter_constraints``).
    extra : dict
        Its extra keyword parameters: ``optimizer__<name>``, ``encoder__<name>``,
        ``decoder__<name>``.
    rank_of : callable
        ``rank_of(n_samples, n_features)``: the start rank, checked (the estimator's rule).
    epochs_factor : int
        ``max_epochs="auto"`` trains this many times the default number of epochs.
    auto_pca_start : bool
        Whether ``init="auto"`` starts the built-in MLP as PCA (the estimator's rule).
    incremental : bool
        A ``partial_fit`` call: no validation split.
    device : str or None
        The device of the net a later ``partial_fit`` call keeps (no new net is
        built, no seed drawn); None: a new net on the device of ``params``.
    integer_params : iterable of str
        The parameters that take ints: a bool passes their check (``True`` is an
        ``Integral``) but is refused here, where PCA would read ``True`` as 1.
    distributed : bool
        ``n_samples`` rows are this process's shard in a process group: the
        shards are checked together (every process raises the same error), the
        seed is rank 0's, and there is no validation split.
    """
    for name in integer_params:
        if isinstance(params[name], bool):
            raise ValueError(f"The {name!r} parameter must be an int, not a bool. Got {params[name]!r}.")
    _check_routed(extra, estimator_name)
    hidden = _sizes(params, "hidden_layer_sizes")
    decoder_hidden = _sizes(params, "decoder_hidden_layer_sizes")
    if not issubclass(params["optimizer"], torch.optim.Optimizer):
        raise TypeError(
            f"'optimizer' must be a torch.optim.Optimizer subclass such as torch.optim.Adam. "
            f"Got {params['optimizer']!r}."
        )
    architecture = params["architecture"]
    input_shape = resolve_input_shape(params["input_shape"], architecture, n_features)
    for role in ("encoder", "decoder"):
        check_network_param(role, params[role], routed(extra, role), architecture)
    shards = check_shards(n_samples, n_features) if distributed else None
    rank = rank_of(sum(shards) if distributed else n_samples, n_features)
    if distributed and rank is not None and min(shards) <= rank:  # an error on every process
        raise ValueError(
            f"Every process's shard of X must have more rows than the rank {rank} (a batch latent "
            f"cannot have a rank above its number of rows); the shards have {shards} rows (in rank order)."
        )
    new_net = device is None
    device = resolve_device(params["device"]) if new_net else device
    seed = (
        int(check_random_state(params["random_state"]).randint(np.iinfo(np.int32).max)) if new_net else None
    )
    if distributed:
        seed = broadcast(seed)  # random_state=None: every process starts from rank 0's weights
    pca_start = _resolve_init(params, rank, auto_pca_start)
    train_rows = valid_rows = None
    n_train = n_samples
    early_stopping = params["early_stopping"]
    if distributed and early_stopping is True:
        raise ValueError(
            "early_stopping=True is not supported inside a torch.distributed process group (the "
            "validation rows would be per process); set early_stopping=False, or 'auto', which is off there."
        )
    if distributed:
        early_stopping = False
    if early_stopping == "auto":
        n_valid = math.ceil(params["validation_fraction"] * n_samples)  # as train_test_split rounds
        early_stopping = n_valid >= _AUTO_MIN_VALID_ROWS
    if early_stopping and not incremental:
        train_rows, valid_rows = _split_rows(n_samples, params["validation_fraction"], seed, rank)
        n_train = len(train_rows)
    batch_size = min(params["batch_size"], n_train)
    min_batch_size = (rank or 0) + 1
    n_batches = len(batches(n_train, batch_size, min_batch_size))
    if distributed:
        counts = all_gather(n_batches)
        if len(set(counts)) > 1:
            raise ValueError(
                f"Inside a process group every process must run the same number of batches per "
                f"epoch (each step reduces across all of them); with batch_size={params['batch_size']} "
                f"the shards of {shards} rows give {counts}. Give the processes shards of equal size."
            )
    n_epochs = params["max_epochs"]
    if n_epochs == "auto":
        n_epochs = auto_epochs(n_batches, epochs_factor)
    patience = params["n_iter_no_change"]
    if patience == "auto":
        patience = max(_AUTO_MIN_PATIENCE, int(_AUTO_PATIENCE_FRACTION * n_epochs))
    # Many features for few rows: a decoder can memorise the rows, dropout keeps it from it.
    # After a PCA start only, where it was measured: with the stage, the adaptive estimator
    # (random weights) took 17-43 % longer on the paper's synthetic problems and found the
    # same ranks.
    dropout_stage = valid_rows is not None and n_features > n_train and pca_start
    decoder_epochs = _resolve_decoder_epochs(
        params, rank, n_samples, n_epochs, distributed, incremental, dropout_stage
    )
    decoder_dropout, stage_dropout = _resolve_decoder_dropout(params, decoder_epochs, dropout_stage)
    network = NetworkSpec(
        architecture=architecture,
        n_features=n_features,
        latent_dim=params["latent_dim"],
        input_shape=input_shape,
        hidden_layer_sizes=hidden,
        decoder_hidden_layer_sizes=decoder_hidden,
        activation=params["activation"],
        encoder=params["encoder"],
        decoder=params["decoder"],
        encoder_kwargs=routed(extra, "encoder"),
        decoder_kwargs=routed(extra, "decoder"),
        decoder_dropout=decoder_dropout,
    )
    return TrainingPlan(
        device=device,
        seed=seed,
        rank=rank,
        batch_size=batch_size,
        min_batch_size=min_batch_size,
        n_batches=n_batches,
        n_epochs=n_epochs,
        train_rows=train_rows,
        valid_rows=valid_rows,
        patience=patience,
        decoder_epochs=decoder_epochs,
        decoder_stage_dropout=stage_dropout,
        decoder_stage_min_start_fraction=(
            _AUTO_STAGE_MIN_START_FRACTION
            if params["decoder_epochs"] == "auto" and decoder_epochs and dropout_stage
            else None
        ),
        pca_start=pca_start,
        network=network,
        optimizer_kwargs=check_optimizer_kwargs(params["optimizer"], routed(extra, "optimizer")),
        distributed=distributed,
    )
