"""skorch glue: the net that trains an RRAE module, running it, and what it recorded."""

import torch
from skorch.callbacks import ProgressBar
from skorch.helper import predefined_split

from ._callbacks import (
    PRINT_IGNORED,
    DataUnitsLoss,
    DivergenceGuard,
    TrainingDivergedError,
    TrainingRowsStartCheck,
    ValidationEarlyStopping,
)
from ._data import BatchIterator
from ._distributed import AverageGradients, GlobalEpochLoss, global_rank_truncate
from ._linear_start import pca_start
from ._module import RRAEModule
from ._training_net import TrainingNet
from ._weight_average import WeightAverage


def fork_rng(device):
    """``torch.random.fork_rng`` over the CPU and, when training there, ``device``."""
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    return torch.random.fork_rng(devices=devices)


def new_net(
    plan,
    seed,
    params,
    *,
    output_gain,
    to_data_units,
    truncation,
    eval_truncation=None,
    schedule=(),
    valid=None,
    start_axes=None,
    start_check_rows=None,
):
    """A freshly initialised net whose weights and shuffling come from ``seed``.

    ``params`` are the estimator's parameters (``lr``, ``optimizer``, ``verbose``,
    ``callbacks``, ``tol``), ``schedule`` its own callbacks (a rank schedule),
    ``valid`` the validation rows (early stopping, on an average of the weights) or None; ``to_data_units``
    turns a model-unit loss into the data's units; ``truncation`` (and
    ``eval_truncation``, for the validation batches) are the module's; ``start_axes`` (the PCA start's
    principal axes, or None) wraps the networks so that they start as PCA;
    ``start_check_rows`` (training rows, or None) judge the trained model against that
    start where there is no ``valid`` (``TrainingRowsStartCheck``): not under a rank
    schedule (its start is at another rank) nor across processes (each has its own rows).
    """
    torch.manual_seed(seed)
    callbacks = [("divergence_guard", DivergenceGuard())]
    if plan.distributed:
        # Each step truncates the global batch latent; gradients and epoch losses are
        # averaged over the processes (before the data-units loss reads them).
        truncation = global_rank_truncate
        callbacks += [("average_gradients", AverageGradients()), ("global_epoch_loss", GlobalEpochLoss())]
    callbacks.append(("data_units_loss", DataUnitsLoss(to_data_units)))
    if params["verbose"]:
        callbacks.append(("progress_bar", ProgressBar()))
    callbacks += list(params["callbacks"] or [])
    # Last, the callbacks that may end training by raising (the user's see every
    # epoch); the early stopping reads what the schedule records.
    callbacks += list(schedule)
    if valid is not None:
        if not schedule:  # under a rank schedule the steps train other ranks: no average of them
            callbacks.append(("weight_average", WeightAverage()))
        stopping = ValidationEarlyStopping(plan.patience, params["tol"], score_start=start_axes is not None)
        callbacks.append(("early_stopping", stopping))
    elif start_axes is not None and start_check_rows is not None and not schedule and not plan.distributed:
        callbacks.append(("start_check", TrainingRowsStartCheck(start_check_rows)))
    encoder, decoder = plan.network.build()
    if start_axes is not None:
        encoder, decoder = pca_start(encoder, decoder, start_axes, output_gain)
    net = TrainingNet(
        module=RRAEModule,
        module__encoder=encoder,
        module__decoder=decoder,
        module__latent_dim=plan.network.latent_dim,
        module__n_components=plan.rank,
        module__output_gain=output_gain,
        module__truncation=truncation,
        module__eval_truncation=eval_truncation,
        max_epochs=plan.n_epochs,
        **training_settings(plan, params, seed, callbacks, valid, plan.min_batch_size),
    )
    return net.initialize()


def training_settings(plan, params, seed, callbacks, valid, min_batch_size=1):
    """The skorch arguments of a training net besides its module: loss, optimizer, batches, logging.

    Shared by training and the decoder's second stage (``_decoder_stage``).
    """
    return dict(
        criterion=torch.nn.MSELoss,
        optimizer=params["optimizer"],
        lr=params["lr"],
        batch_size=plan.batch_size,
        iterator_train=BatchIterator,
        iterator_train__shuffle=True,
        iterator_train__generator=torch.Generator().manual_seed(seed),
        iterator_train__min_batch_size=min_batch_size,
        iterator_valid=BatchIterator,
        iterator_valid__min_batch_size=min_batch_size,
        train_split=None if valid is None else predefined_split(valid),
        callbacks=callbacks,
        device=plan.device,
        verbose=params["verbose"],
        # skorch formats its epoch table even when it prints nothing.
        **(
            {"callbacks__print_log__keys_ignored": PRINT_IGNORED}
            if params["verbose"]
            else {"callbacks__print_log": None}
        ),
        **{f"optimizer__{k}": v for k, v in plan.optimizer_kwargs.items()},
    )


def continue_from(net, previous):
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


def run(net, data, epochs=None):
    """``net.partial_fit`` with a clear error when the eigensolver meets a non-finite latent."""
    try:
        net.partial_fit(data, epochs=epochs)
    except torch.linalg.LinAlgError as exc:
        raise TrainingDivergedError(
            f"Training diverged: the batch latent is no longer finite. Lower the "
            f"learning rate `lr` (currently {net.lr})."
        ) from exc


def curves(rows):
    """(training losses, validation scores, best validation score, start's score), data units.

    ``rows`` are history rows (one per epoch), whose losses in data units
    ``DataUnitsLoss`` recorded; the last three are None without validation. The
    best score is that of the epoch whose weights training ended with
    (``best_epoch``, recorded by the early stopping: 0 is the start where it was
    scored), else the last one. The start's score is that of the module before
    the first epoch (the PCA start), where the early stopping scored it.
    """
    losses = [row["train_mse"] for row in rows]
    if not rows or "valid_mse" not in rows[-1]:
        return losses, None, None, None
    scores = [-row["valid_mse"] for row in rows]
    start = -rows[0]["start_valid_mse"] if "start_valid_mse" in rows[0] else None
    # The last record: a rank schedule may end training before the early stopping's turn.
    best = [row["best_epoch"] for row in rows if "best_epoch" in row]
    best_epoch = best[-1] if best else len(rows)
    if best_epoch == 0 and start is None:
        best_epoch = len(rows)
    return losses, scores, start if best_epoch == 0 else scores[best_epoch - 1], start
