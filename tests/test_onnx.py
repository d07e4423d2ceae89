"""sklearn_rrae.to_onnx: onnxruntime gives the estimator's outputs, for any number of rows."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import sklearn_rrae
from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer

from .conftest import FAST

for _package in ("onnx", "onnxscript", "onnxruntime"):
    pytest.importorskip(
        _package, reason=f"ONNX export needs {_package}: pip install 'sklearn-rrae[export]' (.ci/run does)"
    )
import onnxruntime  # noqa: E402

# "Agrees to 1e-5 relative": in norm, and every entry within 1e-5 of the largest
# output (the graph is float32 throughout, the estimator scales in float64).
_RTOL = 1e-5


def _run(path, X):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    return session.run(None, {name: X.astype(np.float32)})[0]


def _scaled_error(result, expected):
    difference = result.astype(np.float64) - expected
    norm = np.linalg.norm(difference) / np.linalg.norm(expected)
    return float(max(norm, np.abs(difference).max() / np.abs(expected).max()))


@pytest.fixture(scope="module")
def digits():
    X, _ = load_digits(return_X_y=True)
    return X[:600]


MODELS = {
    "mlp": dict(n_components=5),
    "cnn": dict(n_components=5, architecture="cnn", input_shape=(8, 8)),
    "adaptive": dict(),
    # Dropout is training-only: the exported graph must be the evaluation-mode decoder.
    "mlp-decoder-dropout": dict(n_components=5, decoder_dropout=0.5, init="random"),
}


@pytest.mark.parametrize("architecture", MODELS)
def test_onnx_matches_transform_and_inverse_transform(architecture, digits, tmp_path):
    estimator = AdaptiveRRAETransformer if architecture == "adaptive" else RRAETransformer
    model = estimator(random_state=0, **{**FAST, "max_epochs": 3}, **MODELS[architecture]).fit(digits)
    X = digits.astype(np.float32)
    codes = model.transform(X)
    sklearn_rrae.to_onnx(model, tmp_path / "t.onnx")
    sklearn_rrae.to_onnx(model, tmp_path / "i.onnx", method="inverse_transform")
    for rows in (slice(0, 1), slice(0, 300), slice(None)):  # a dynamic batch dimension
        assert _scaled_error(_run(tmp_path / "t.onnx", X[rows]), codes[rows]) <= _RTOL
        decoded = model.inverse_transform(codes[rows])
        assert _scaled_error(_run(tmp_path / "i.onnx", codes[rows]), decoded) <= _RTOL


def test_onnx_graph_has_no_svd(digits, tmp_path):
    import onnx

    model = RRAETransformer(n_components=3, random_state=0, **FAST).fit(digits)
    sklearn_rrae.to_onnx(model, tmp_path / "t.onnx")
    graph = onnx.load(str(tmp_path / "t.onnx"))
    ops = {node.op_type for node in graph.graph.node}
    assert ops.isdisjoint({"SVD", "Eig", "Loop", "If"}), ops
    assert [d.dim_param or d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim][1] == 64


def test_onnx_on_mnist(shared_data, tmp_path):
    with np.load(shared_data / "mnist.npz") as data:
        X_train = data["x_train"][:2000].reshape(2000, -1) / 255.0
        X_test = data["x_test"][:1000].reshape(1000, -1) / 255.0
    for extra in ({}, dict(architecture="cnn", input_shape=(28, 28))):
        model = RRAETransformer(n_components=10, max_epochs=2, random_state=0, **extra).fit(X_train)
        sklearn_rrae.to_onnx(model, tmp_path / "t.onnx")
        sklearn_rrae.to_onnx(model, tmp_path / "i.onnx", method="inverse_transform")
        codes = model.transform(X_test.astype(np.float32))
        assert _scaled_error(_run(tmp_path / "t.onnx", X_test), codes) <= _RTOL
        assert _scaled_error(_run(tmp_path / "i.onnx", codes), model.inverse_transform(codes)) <= _RTOL


def test_to_onnx_errors(digits, tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        sklearn_rrae.to_onnx(RRAETransformer(), tmp_path / "x.onnx")
    model = RRAETransformer(n_components=3, random_state=0, **FAST).fit(digits)
    with pytest.raises(ValueError, match="'method' parameter of to_onnx"):
        sklearn_rrae.to_onnx(model, tmp_path / "x.onnx", method="predict")


def test_to_onnx_without_its_packages_is_a_clear_error(digits, tmp_path, monkeypatch):
    import sys

    model = RRAETransformer(n_components=3, random_state=0, **FAST).fit(digits)
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(ImportError, match=r"needs the onnxscript package.*sklearn-rrae\[export\]"):
        sklearn_rrae.to_onnx(model, tmp_path / "x.onnx")
