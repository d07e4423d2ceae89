"""Model selection fanned out to a dask.distributed cluster through joblib, and dask-ml streaming."""

import functools
import os

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_rrae import RRAETransformer

RANKS = [2, 4, 8]
TINY = dict(
    latent_dim=16, hidden_layer_sizes=(32,), max_epochs=3, batch_size=128, random_state=0, device="cpu"
)


def rank_search(n_jobs, scoring=None):
    pipe = Pipeline([("scale", MinMaxScaler()), ("rrae", RRAETransformer(**TINY))])
    return GridSearchCV(pipe, {"rrae__n_components": RANKS}, cv=3, n_jobs=n_jobs, scoring=scoring)


def score_recording_pid(path, estimator, X, y=None):
    """The estimator's own score, and the id of the process that computed it, appended to ``path``."""
    with open(path, "a") as f:
        f.write(f"{os.getpid()}\n")
    return estimator.score(X)


@pytest.fixture
def one_torch_thread():
    """Serial fits on one thread, as in the workers (threads_per_worker=1); also
    much faster than two threads on a busy 2-core machine."""
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


def test_grid_search_on_a_local_dask_cluster_matches_the_serial_search(one_torch_thread):
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    import joblib

    X, _ = load_digits(return_X_y=True)
    serial = rank_search(n_jobs=1).fit(X)
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            on_cluster = rank_search(n_jobs=-1).fit(X)
        # The fits ran in the worker processes (the estimators were pickled to them).
        assert len(client.scheduler_info()["workers"]) == 2
    assert on_cluster.best_params_ == serial.best_params_
    for key in ["mean_test_score", *(f"split{i}_test_score" for i in range(3))]:
        np.testing.assert_array_equal(on_cluster.cv_results_[key], serial.cv_results_[key])
    np.testing.assert_array_equal(on_cluster.transform(X), serial.transform(X))


def test_partial_fit_through_dask_ml_incremental():
    da = pytest.importorskip("dask.array")
    dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")
    X, _ = load_digits(return_X_y=True)
    X = X[:600] / 16.0
    chunked = da.from_array(X, chunks=(200, 64))
    model = dask_ml_wrappers.Incremental(RRAETransformer(n_components=4, **TINY), shuffle_blocks=False)
    model.fit(chunked)
    fitted = model.estimator_
    assert fitted.n_iter_ == 3 and fitted.n_samples_seen_ == 600
    # The same stream of chunks, by hand, gives the same model.
    by_hand = RRAETransformer(n_components=4, **TINY)
    for start in range(0, 600, 200):
        by_hand.partial_fit(X[start : start + 200])
    np.testing.assert_array_equal(fitted.transform(X), by_hand.transform(X))
    codes = model.transform(chunked).compute()
    np.testing.assert_array_equal(codes, by_hand.transform(X))


def test_grid_search_on_a_local_ray_cluster_matches_the_serial_search(one_torch_thread, tmp_path, request):
    X, _ = load_digits(return_X_y=True)
    pids = tmp_path / "pids"
    scoring = functools.partial(score_recording_pid, str(pids))
    serial = rank_search(n_jobs=1, scoring=scoring).fit(X)
    pids.unlink()
    request.getfixturevalue("local_ray")  # started after the serial search, which it would slow
    import joblib
    from ray.util.joblib import register_ray

    register_ray()
    with joblib.parallel_backend("ray"):
        on_cluster = rank_search(n_jobs=-1, scoring=scoring).fit(X)
    # Every fold was scored in a Ray worker process, none in this one.
    scored_in = {int(line) for line in pids.read_text().split()}
    assert scored_in and os.getpid() not in scored_in
    assert on_cluster.best_params_ == serial.best_params_
    for key in ["mean_test_score", *(f"split{i}_test_score" for i in range(3))]:
        np.testing.assert_array_equal(on_cluster.cv_results_[key], serial.cv_results_[key])
    np.testing.assert_array_equal(on_cluster.transform(X), serial.transform(X))
