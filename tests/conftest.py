import os
from pathlib import Path

import numpy as np
import pytest

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
