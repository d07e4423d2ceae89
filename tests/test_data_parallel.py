"""Data-parallel fit: two gloo processes on this machine train the model one process would."""

import json
import re

import numpy as np
import pytest
import torch
import torch.distributed as dist
from sklearn.datasets import load_digits

from sklearn_rrae import RRAETransformer
from sklearn_rrae._distributed import global_rank_truncate
from sklearn_rrae._truncation import rank_truncate

from ._data_parallel_worker import fit_in_ray_train, fit_shard

pytestmark = pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(), reason="needs torch.distributed with gloo"
)

# One batch per process per epoch: the global batch is then every training row at
# every step, the same composition as the one-process fit with batch_size=1024,
# whatever each process's shuffling (it only reorders rows within the batch).
DEFAULTS = dict(n_components=5, batch_size=512, max_epochs=40, random_state=0, early_stopping=False)
# The equality to 1e-4 is checked from random weights: from the PCA start, the encoder's
# last layer (zero at the start, where PCA is stationary) gets gradients that are float
# rounding noise, which Adam's first steps turn into full-size updates. Any change in the
# order of the sums moves them: the one-process fit on the same rows in another order
# gave reconstructions 2.4 % apart (held-out MSE 0.998 x), two shards 4.4 % (0.998 x).
FITS = [{**DEFAULTS, "init": "random"}, DEFAULTS]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = X[:1024], X[1024:]
    out = tmp_path_factory.mktemp("data_parallel")
    shards = [X_train[:512], X_train[512:]]
    torch.multiprocessing.spawn(
        fit_shard, args=(str(out / "rendezvous"), str(out), shards, X_test, FITS), nprocs=2, join=True
    )
    results = [[dict(np.load(out / f"rank{r}_fit{i}.npz")) for r in range(2)] for i in range(len(FITS))]
    errors = [json.loads((out / f"errors{r}.json").read_text()) for r in range(2)]
    alone = [RRAETransformer(**{**params, "batch_size": 1024}).fit(X_train) for params in FITS]
    return results, errors, alone, X_test, out


def test_every_process_ends_with_the_same_model(two_processes):
    results, *_ = two_processes
    for a, b in results:
        for name in ("components", "weights", "reconstruction", "loss_curve", "evr", "sample"):
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def _reconstruction(model, X):
    return model.inverse_transform(model.transform(X))


def test_two_shards_train_the_one_process_model(two_processes):
    results, _, alone, X_test, _ = two_processes
    (shards, _), model = results[0], alone[0]  # from random weights
    expected = _reconstruction(model, X_test)
    assert np.linalg.norm(shards["reconstruction"] - expected) / np.linalg.norm(expected) <= 1e-4
    np.testing.assert_allclose(shards["loss_curve"], model.loss_curve_, rtol=1e-4)
    for (shards, _), model in zip(results, alone, strict=True):  # and with the defaults' PCA start
        mse_shards = np.mean((shards["reconstruction"] - X_test) ** 2)
        mse_alone = np.mean((_reconstruction(model, X_test) - X_test) ** 2)
        assert abs(mse_shards / mse_alone - 1) <= 0.02


def test_what_a_process_group_refuses_is_refused_by_every_process(two_processes):
    _, errors, *_ = two_processes
    assert errors[0] == errors[1]
    expected = {
        "features": "different numbers of features: \\[64, 63\\]",
        "rows": "more rows than the rank 5.*\\[512, 2\\]",
        "n_init": "n_init=2 is not supported inside a torch.distributed process group",
        "nested": "nested=True is not supported inside a torch.distributed process group",
        "partial_fit": "partial_fit is not supported inside a torch.distributed process group",
        "adaptive": "AdaptiveRRAETransformer does not train inside a torch.distributed process group",
        "early_stopping": "early_stopping=True is not supported inside a torch.distributed process group",
    }
    for case, pattern in expected.items():
        assert errors[0][case] is not None and re.search(pattern, errors[0][case]), (case, errors[0][case])


def test_a_divergence_seen_by_one_process_stops_every_process(two_processes):
    # Alone, the second process would raise and the first wait for it in the next
    # all_reduce forever.
    *_, out = two_processes
    first, second = (json.loads((out / f"divergence{r}.json").read_text()) for r in range(2))
    assert second is not None and "the loss became 1000000000.0" in second
    assert first is not None and "the loss became not finite or absurd on another process" in first


def test_ray_train_fits_the_model_of_the_two_processes(two_processes, tmp_path, request):
    # docs/distributed.md's Ray Train recipe: a TorchTrainer of two CPU workers (Ray
    # sets up the gloo group) trains what torch.multiprocessing's two processes did.
    reason = "needs Ray Train: pip install 'sklearn-rrae[ray]' (.ci/run does)"
    pytest.importorskip("ray.train.torch", reason=reason)
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    results, _, _, X_test, _ = two_processes
    X, _ = load_digits(return_X_y=True)
    request.getfixturevalue("local_ray")
    TorchTrainer(
        fit_in_ray_train,
        train_loop_config={"X": X[:1024], "X_test": X_test, "params": FITS[0], "out_dir": str(tmp_path)},
        scaling_config=ScalingConfig(num_workers=2, use_gpu=False),
        run_config=RunConfig(storage_path=str(tmp_path / "ray_results")),
    ).fit()
    on_ray = [np.load(tmp_path / f"ray_rank{r}.npz") for r in range(2)]
    np.testing.assert_array_equal(on_ray[0]["components"], on_ray[1]["components"])
    spawned = results[0][0]["reconstruction"]
    assert np.linalg.norm(on_ray[0]["reconstruction"] - spawned) / np.linalg.norm(spawned) <= 1e-5


def test_the_global_truncation_and_its_backward_are_those_of_the_whole_batch(two_processes):
    # Shards of 15 rows each of a 30 x 12 float64 matrix: each process's output and
    # gradient are its rows of rank_truncate's on the whole matrix (the loss being the
    # sum over both processes of <output, G>).
    *_, out = two_processes
    g = torch.Generator().manual_seed(0)
    Y, G = torch.randn(2, 30, 12, generator=g, dtype=torch.float64)
    Y.requires_grad_()
    whole = rank_truncate(Y, 3)
    whole.backward(G)
    for rank in range(2):
        shard = np.load(out / f"truncation{rank}.npz")
        rows = slice(rank * 15, (rank + 1) * 15)
        np.testing.assert_allclose(shard["out"], whole.detach().numpy()[rows], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(shard["grad"], Y.grad.numpy()[rows], rtol=1e-10, atol=1e-12)


def test_outside_a_process_group_the_global_truncation_is_the_local_one():
    Y = torch.randn(40, 12, generator=torch.Generator().manual_seed(0))
    assert torch.equal(global_rank_truncate(Y, 3), rank_truncate(Y, 3))
