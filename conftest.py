"""Settings for the whole test run: the tests and the docstring examples."""

import os

# scikit-learn runs its array-API check only when SciPy's array API support is on,
# which must be set before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import torch  # noqa: E402

# Small, fast, repeatable: the suite must run in minutes on 2 CPU cores. The test
# networks are tiny, so a second intra-op thread buys nothing; and where another
# process holds a core, torch's threads wait on each other at every operation
# (small fits measured 10-25 x slower with 2 threads on a loaded 2-core machine).
torch.set_num_threads(1)


import importlib.util  # noqa: E402

import pytest  # noqa: E402

# The docstring examples of the optional extra (pip install 'sklearn-rrae[export]',
# which .ci/run installs) skip where a package of it is missing, and say which.
_EXTRA_DOCTESTS = {
    "sklearn_rrae._persistence": ("safetensors",),
    "sklearn_rrae._onnx": ("safetensors", "onnx", "onnxscript", "onnxruntime"),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not isinstance(item, pytest.DoctestItem):
            continue
        module = item.name.rsplit(".", 1)[0]
        missing = [p for p in _EXTRA_DOCTESTS.get(module, ()) if importlib.util.find_spec(p) is None]
        if missing:
            item.add_marker(
                pytest.mark.skip(reason=f"needs {', '.join(missing)}: pip install 'sklearn-rrae[export]'")
            )
