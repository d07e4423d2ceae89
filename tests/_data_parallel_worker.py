"""One process of tests/test_data_parallel.py: fits its shard inside a gloo process group."""

import json
from types import SimpleNamespace

import numpy as np
import torch
import torch.distributed as dist
from skorch.history import History

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer
from sklearn_rrae._callbacks import DivergenceGuard
from sklearn_rrae._distributed import global_rank_truncate


def _error(fit):
    try:
        fit()
    except ValueError as exc:
        return str(exc)
    return None


def fit_shard(rank, init_file, out_dir, shards, X_test, fits):
    """Fit ``shards[rank]`` with each of ``fits`` (parameter dicts); save what the test compares;
    then the refused cases, in every process."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=len(shards))
    try:
        # The truncation and its backward on float64 shards of one matrix (see the test).
        g = torch.Generator().manual_seed(0)
        Y, G = torch.randn(2, 30, 12, generator=g, dtype=torch.float64)
        Y_shard = Y[rank * 15 : (rank + 1) * 15].clone().requires_grad_()
        out = global_rank_truncate(Y_shard, 3)
        out.backward(G[rank * 15 : (rank + 1) * 15])
        np.savez(f"{out_dir}/truncation{rank}.npz", out=out.detach().numpy(), grad=Y_shard.grad.numpy())
        X = shards[rank]
        for i, params in enumerate(fits):
            model = RRAETransformer(**params).fit(X)
            weights = torch.cat([v.reshape(-1).double() for v in model.module_.state_dict().values()])
            np.savez(
                f"{out_dir}/rank{rank}_fit{i}.npz",
                components=model.components_,
                weights=weights.numpy(),
                reconstruction=model.inverse_transform(model.transform(X_test)),
                loss_curve=np.asarray(model.loss_curve_),
                evr=model.explained_variance_ratio_,
                sample=model.sample(5, random_state=0),
            )
        small = {**fits[0], "max_epochs": 1}
        errors = {
            "features": _error(lambda: RRAETransformer(**small).fit(X if rank == 0 else X[:, :-1])),
            "rows": _error(lambda: RRAETransformer(**small).fit(X if rank == 0 else X[:2])),
            "n_init": _error(lambda: RRAETransformer(**small, n_init=2).fit(X)),
            "nested": _error(lambda: RRAETransformer(**small, nested=True).fit(X)),
            "partial_fit": _error(lambda: RRAETransformer(**small).partial_fit(X)),
            "adaptive": _error(lambda: AdaptiveRRAETransformer(max_epochs=1).fit(X)),
            "early_stopping": _error(lambda: RRAETransformer(**{**small, "early_stopping": True}).fit(X)),
        }
        with open(f"{out_dir}/errors{rank}.json", "w") as f:
            json.dump(errors, f)
        # Only the second process's epoch has an absurd batch loss: both must stop.
        history = History()
        history.new_epoch()
        history.new_batch()
        history.record_batch("train_loss", 1e9 if rank == 1 else 0.5)
        net = SimpleNamespace(history=history, lr=1e-3)
        with open(f"{out_dir}/divergence{rank}.json", "w") as f:
            json.dump(_error(lambda: DivergenceGuard().on_epoch_end(net)), f)
    finally:
        dist.destroy_process_group()


def fit_in_ray_train(config):
    """The training function of a Ray Train ``TorchTrainer`` (docs/distributed.md's recipe):
    Ray has set up the gloo process group; each worker fits its shard and saves its results."""
    import ray.train

    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    X = config["X"]
    model = RRAETransformer(**config["params"]).fit(X[rank * len(X) // world : (rank + 1) * len(X) // world])
    np.savez(
        f"{config['out_dir']}/ray_rank{rank}.npz",
        components=model.components_,
        reconstruction=model.inverse_transform(model.transform(config["X_test"])),
    )
