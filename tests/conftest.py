import os

# scikit-learn runs its array-API check only when SciPy's array API support is on,
# which must be set before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

# Small, fast, repeatable: the suite must run in minutes on 2 CPU cores.
torch.set_num_threads(min(2, torch.get_num_threads()))

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
