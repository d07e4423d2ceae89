import os
from pathlib import Path

import numpy as np
import pytest

import sklearn_rrae._net
from sklearn_rrae._callbacks import ValidationEarlyStopping

SHARED_DATA = Path(
    os.environ.get("SKLEARN_RRAE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture
def shared_data():
    """Folder of the real data sets; the test is skipped where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"data folder {SHARED_DATA} not found")
    return SHARED_DATA


@pytest.fixture
def X_small():
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(60, 3))
    return np.tanh(latent @ rng.normal(size=(3, 10))) + 0.01 * rng.normal(size=(60, 10))


# Tiny networks and budgets for everything that only checks behaviour.
FAST = dict(latent_dim=16, hidden_layer_sizes=(32,), max_epochs=5, batch_size=32)


class _StartNotScored(ValidationEarlyStopping):
    def __init__(self, patience, tol, score_start=False):
        super().__init__(patience, tol, score_start=False)


def wide_rows(n_features=150):
    """120 rows: early_stopping="auto" holds 12 out; with more features than the 108
    training rows, "auto" gives a fit that starts as PCA the second stage with dropout."""
    rng = np.random.RandomState(0)
    return np.tanh(rng.normal(size=(120, 3)) @ rng.normal(size=(3, n_features)))


@pytest.fixture
def pca_start_not_scored(monkeypatch):
    """Training's early stopping does not score the PCA start, so the fit never keeps it.

    A few epochs of a tiny network do not beat PCA on small test data, and a kept
    start has no second stage (the stage's own early stopping is left as it is).
    """
    monkeypatch.setattr(sklearn_rrae._net, "ValidationEarlyStopping", _StartNotScored)


@pytest.fixture
def local_ray():
    """The ``ray`` module, initialised as a local cluster of 2 CPUs whose workers import this
    checkout with one torch thread each; shut down after the test. Skips without ``ray``."""
    reason = "needs ray: pip install 'sklearn-rrae[ray]' (.ci/run does)"
    ray = pytest.importorskip("ray", reason=reason)
    checkout = str(Path(__file__).resolve().parents[1])
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": checkout, "OMP_NUM_THREADS": "1"}},
    )
    yield ray
    ray.shutdown()
