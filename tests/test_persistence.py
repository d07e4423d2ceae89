"""sklearn_rrae.save / load: exact round trips, continuation, and files that cannot run code."""

import copy
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.mixture import BayesianGaussianMixture
from sklearn.neighbors import KernelDensity
from torch import nn

import sklearn_rrae
from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer

from .conftest import FAST

pytest.importorskip(
    "safetensors", reason="save/load need safetensors: pip install 'sklearn-rrae[export]' (.ci/run does)"
)


class SmallEncoder(nn.Module):
    """A custom network class (the estimator passes n_features and latent_dim)."""

    def __init__(self, n_features, latent_dim, width=12):
        super().__init__()
        self.n_features, self.latent_dim, self.width = n_features, latent_dim, width
        self.net = nn.Sequential(nn.Linear(n_features, width), nn.Tanh(), nn.Linear(width, latent_dim))

    def forward(self, X):
        return self.net(X)


class Opaque(nn.Module):
    """An instance that does not keep its constructor argument: it cannot be rebuilt from its class."""

    def __init__(self, size):
        super().__init__()
        self.layer = nn.Linear(size, 16)

    def forward(self, X):
        return self.layer(X)


def _round_trip(model, **load_kwargs):
    buffer = io.BytesIO()
    sklearn_rrae.save(model, buffer)
    buffer.seek(0)
    return sklearn_rrae.load(buffer, **load_kwargs)


def _assert_same_outputs(a, b, X):
    codes = a.transform(X)
    np.testing.assert_array_equal(b.transform(X), codes)
    np.testing.assert_array_equal(b.inverse_transform(codes), a.inverse_transform(codes))
    assert b.score(X) == a.score(X)
    np.testing.assert_array_equal(b.sample(7, random_state=0), a.sample(7, random_state=0))
    assert b.n_iter_ == a.n_iter_ and repr(b.loss_curve_) == repr(a.loss_curve_)
    np.testing.assert_array_equal(b.components_, a.components_)
    assert repr(b.get_params()) == repr(a.get_params())


CASES = {
    "mlp": lambda: RRAETransformer(n_components=3, random_state=0, **FAST),
    "mlp-early-stopping": lambda: RRAETransformer(
        n_components=3, random_state=0, early_stopping=True, **FAST
    ),
    "cnn": lambda: RRAETransformer(
        n_components=3,
        architecture="cnn",
        input_shape=(2, 5),
        random_state=0,
        encoder__channels=(4, 8),
        **FAST,
    ),
    "plain-autoencoder": lambda: RRAETransformer(n_components=None, random_state=0, **FAST),
    "decoder-dropout": lambda: RRAETransformer(
        n_components=3, decoder_dropout=0.3, init="random", random_state=0, **FAST
    ),
    "nested-n_init": lambda: RRAETransformer(n_components=3, nested=True, n_init=2, random_state=0, **FAST),
    "adaptive": lambda: AdaptiveRRAETransformer(random_state=0, **{**FAST, "max_epochs": 8}),
    "kernel-density": lambda: RRAETransformer(
        n_components=3, density=KernelDensity(bandwidth=0.5), random_state=0, **FAST
    ),
    "bayesian-mixture": lambda: RRAETransformer(
        n_components=3,
        density=BayesianGaussianMixture(n_components=3, random_state=1),
        random_state=0,
        optimizer=torch.optim.SGD,
        optimizer__momentum=0.9,
        lr=1e-2,
        **FAST,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_round_trip_is_exact(case, X_small):
    model = CASES[case]().fit(X_small)
    loaded = _round_trip(model)
    assert type(loaded) is type(model)
    _assert_same_outputs(model, loaded, X_small)


def test_round_trip_keeps_feature_names_dtype_and_output_config(X_small):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X_small.astype(np.float32), columns=[f"f{i}" for i in range(10)])
    model = RRAETransformer(n_components=2, random_state=0, **FAST).set_output(transform="pandas").fit(frame)
    loaded = _round_trip(model)
    assert list(loaded.feature_names_in_) == list(frame.columns)
    pd.testing.assert_frame_equal(loaded.transform(frame), model.transform(frame))
    assert loaded.sample(3, random_state=0).dtype == np.float32


def test_unfitted_estimator_round_trips_its_parameters():
    model = RRAETransformer(n_components=4, hidden_layer_sizes=(8, 4), optimizer__weight_decay=1e-4)
    loaded = _round_trip(model)
    assert repr(loaded.get_params()) == repr(model.get_params())
    assert not hasattr(loaded, "net_")


def test_partial_fit_and_warm_start_continue_from_a_loaded_model(X_small):
    streamed = RRAETransformer(n_components=3, random_state=0, **FAST)
    for chunk in np.array_split(X_small, 2):
        streamed.partial_fit(chunk)
    loaded = _round_trip(streamed)
    np.testing.assert_array_equal(loaded.latent_gram_, streamed.latent_gram_)
    # The same next step on both: weights, Adam's moments and the shuffling generator were saved.
    np.testing.assert_array_equal(
        loaded.partial_fit(X_small).transform(X_small), streamed.partial_fit(X_small).transform(X_small)
    )
    assert loaded.n_samples_seen_ == streamed.n_samples_seen_

    fitted = RRAETransformer(n_components=3, random_state=0, **FAST).fit(X_small)
    loaded = _round_trip(fitted)
    for model in (fitted, loaded):
        model.set_params(warm_start=True, max_epochs=3).fit(X_small)
    _assert_same_outputs(fitted, loaded, X_small)


def test_loading_leaves_the_global_rng_alone(X_small):
    model = RRAETransformer(n_components=3, random_state=0, **FAST).fit(X_small)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _round_trip(model)
    assert torch.equal(torch.rand(3), expected)


def test_custom_encoder_class_needs_trust(X_small):
    model = RRAETransformer(n_components=3, encoder=SmallEncoder, encoder__width=6, random_state=0, **FAST)
    model.fit(X_small)
    with pytest.raises(ValueError, match=r"not trusted.*trusted=\['tests\.test_persistence\.SmallEncoder'\]"):
        _round_trip(model)
    _assert_same_outputs(model, _round_trip(model, trusted=[SmallEncoder]), X_small)
    _assert_same_outputs(model, _round_trip(model, trusted=["tests.test_persistence.SmallEncoder"]), X_small)


def test_custom_encoder_instance_is_rebuilt_from_its_class(X_small):
    instance = SmallEncoder(n_features=10, latent_dim=16, width=5)
    model = RRAETransformer(n_components=3, encoder=instance, random_state=0, **FAST).fit(X_small)
    loaded = _round_trip(model, trusted=[SmallEncoder])
    _assert_same_outputs(model, loaded, X_small)
    # The parameter itself comes back with its own (initial) weights.
    for a, b in zip(loaded.encoder.parameters(), instance.parameters(), strict=True):
        assert torch.equal(a, b)


def test_save_refuses_what_it_cannot_store_faithfully(X_small):
    model = RRAETransformer(n_components=3, encoder=Opaque(10), random_state=0, **FAST).fit(X_small)
    with pytest.raises(ValueError, match="constructor argument 'size'.*Pass the class instead"):
        sklearn_rrae.save(model, io.BytesIO())
    from skorch.callbacks import EpochScoring

    scoring = EpochScoring(scoring=lambda net, X, y: 0.0, on_train=True)
    model = RRAETransformer(n_components=3, callbacks=[scoring], random_state=0, **FAST).fit(X_small)
    with pytest.raises(ValueError, match=r"Cannot save parameter\['callbacks'\].*function"):
        sklearn_rrae.save(model, io.BytesIO())
    with pytest.raises(TypeError, match="saves RRAETransformer"):
        sklearn_rrae.save(KernelDensity(), io.BytesIO())


# -- files that are broken or malicious --------------------------------------------------


@pytest.fixture
def saved(X_small):
    """(document, arrays) of a fitted model's file, to tamper with."""
    model = RRAETransformer(n_components=3, random_state=0, **FAST).fit(X_small)
    buffer = io.BytesIO()
    sklearn_rrae.save(model, buffer)
    with zipfile.ZipFile(buffer) as archive:
        return json.loads(archive.read("model.json")), archive.read("arrays.safetensors")


def _file(document, arrays):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.json", document if isinstance(document, bytes) else json.dumps(document))
        archive.writestr("arrays.safetensors", arrays)
    buffer.seek(0)
    return buffer


class _TouchOnUnpickle:
    """Unpickling it creates a file: the side effect a safe loader must never cause."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def _set_param(document, name, value):
    for pair in document["params"]["__dict__"]:
        if pair[0] == name:
            pair[1] = value
            return document
    raise KeyError(name)


@pytest.mark.parametrize(
    "name, value",
    [
        ("encoder", {"__class__": "os.system"}),
        ("encoder", {"__class__": "builtins.eval"}),
        (
            "encoder",
            {
                "__module__": "os.system",
                "arguments": {"__dict__": [["command", "touch {marker}"]]},
                "state_dict": {"__dict__": []},
            },
        ),
        (
            "density",
            {
                "__object__": "os.system",
                "params": {"__dict__": [["command", "touch {marker}"]]},
                "state": {"__dict__": []},
            },
        ),
    ],
)
@pytest.mark.parametrize("trusted", [(), ("os.system", "builtins.eval")])
def test_a_document_naming_a_function_runs_nothing(saved, tmp_path, name, value, trusted):
    marker = tmp_path / "ran"
    document, arrays = saved
    value = json.loads(json.dumps(value).replace("{marker}", str(marker)))
    with pytest.raises(ValueError, match="not trusted|not a class|not a subclass"):
        sklearn_rrae.load(_file(_set_param(document, name, value), arrays), trusted=trusted)
    assert not marker.exists()


def _without(tree, name):
    """The document ``tree`` without the (name, value) pairs called ``name``."""
    if isinstance(tree, dict):
        return {k: _without(v, name) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_without(v, name) for v in tree if not (isinstance(v, list) and v and v[0] == name)]
    return tree


def test_a_file_saved_before_decoder_dropout_loads_without_it(saved, X_small):
    document, arrays = saved
    assert "decoder_dropout" in json.dumps(document) and "decoder_stage_dropout" in json.dumps(document)
    older = _without(_without(document, "decoder_dropout"), "decoder_stage_dropout")
    loaded = sklearn_rrae.load(_file(older, arrays))
    assert loaded._net_plan.network.decoder_dropout == 0.0
    assert loaded._net_plan.decoder_stage_dropout == 0.0
    as_saved = sklearn_rrae.load(_file(document, arrays))
    np.testing.assert_array_equal(loaded.transform(X_small), as_saved.transform(X_small))
    loaded.partial_fit(X_small)  # it trains on, on the rebuilt net


def test_a_saved_model_comes_back_with_its_dropout(X_small):
    model = CASES["decoder-dropout"]().fit(X_small)
    dropouts = [m.p for m in _round_trip(model).net_.module_.decoder.modules() if isinstance(m, nn.Dropout)]
    assert dropouts == [0.3]  # partial_fit trains on as it was fitted


def test_an_estimator_class_that_is_not_ours_is_refused(saved, tmp_path):
    document, arrays = saved
    document["class"] = "subprocess.Popen"
    with pytest.raises(ValueError, match="'subprocess.Popen', which is not trusted"):
        sklearn_rrae.load(_file(document, arrays))
    with pytest.raises(ValueError, match="not a subclass of BaseRRAE"):
        sklearn_rrae.load(_file(document, arrays), trusted=["subprocess.Popen"])


def test_pickles_in_place_of_the_arrays_or_the_document_are_not_unpickled(saved, tmp_path):
    marker = tmp_path / "ran"
    payload = pickle.dumps(_TouchOnUnpickle(marker))
    document, arrays = saved
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        sklearn_rrae.load(_file(document, payload))
    with pytest.raises(ValueError, match="not valid JSON"):
        sklearn_rrae.load(_file(payload, arrays))
    path = tmp_path / "model.pkl"  # a plain pickle file, given as a path
    path.write_bytes(payload)
    with pytest.raises(ValueError, match="not a sklearn-rrae model file"):
        sklearn_rrae.load(path)
    assert not marker.exists()


def test_broken_files_get_clear_errors(saved, tmp_path):
    document, arrays = saved
    good = _file(document, arrays).getvalue()
    with pytest.raises(ValueError, match="not a sklearn-rrae model file"):
        sklearn_rrae.load(io.BytesIO(b"certainly not a zip archive"))
    with pytest.raises(ValueError, match="truncated or corrupted"):
        sklearn_rrae.load(io.BytesIO(good[: len(good) // 2]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.json", json.dumps(document))
    with pytest.raises(ValueError, match=r"lacks \['arrays.safetensors'\]"):
        sklearn_rrae.load(buffer)
    with pytest.raises(ValueError, match="not of this format"):
        sklearn_rrae.load(_file({**document, "format": "something-else"}, arrays))
    with pytest.raises(ValueError, match="format version 99.*upgrade sklearn-rrae"):
        sklearn_rrae.load(_file({**document, "format_version": 99}, arrays))


def _arrays_with(arrays, change):
    import safetensors.numpy

    tensors = safetensors.numpy.load(arrays)
    change(tensors)
    return safetensors.numpy.save(tensors)


def test_missing_or_misshapen_arrays_get_clear_errors(saved):
    document, arrays = saved
    import safetensors.numpy

    names = list(safetensors.numpy.load(arrays))
    components = next(n for n in names if n.endswith("['components_']"))
    weight = next(n for n in names if n.endswith("net_.module_['encoder.residual.0.weight']"))

    def drop(tensors):
        del tensors[components]

    with pytest.raises(ValueError, match="do not hold.*components_"):
        sklearn_rrae.load(_file(document, _arrays_with(arrays, drop)))

    def reshape(tensors):
        tensors[components] = tensors[components][:, :-1].copy()

    with pytest.raises(ValueError, match=r"components_ has shape \(3, 15\); this model needs \(3, 16\)"):
        sklearn_rrae.load(_file(document, _arrays_with(arrays, reshape)))

    def shrink(tensors):
        tensors[weight] = tensors[weight][:-1].copy()

    with pytest.raises(ValueError, match="weights do not fit this model.s network .saved and expected"):
        sklearn_rrae.load(_file(document, _arrays_with(arrays, shrink)))


def test_missing_safetensors_is_a_clear_error(monkeypatch, X_small):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install 'sklearn-rrae\[export\]'"):
        sklearn_rrae.save(RRAETransformer(), io.BytesIO())


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs CUDA: fits on the GPU, loads on a CPU-only process"
)
def test_a_model_fitted_on_the_gpu_loads_on_a_cpu_only_machine(X_small, tmp_path):
    model = RRAETransformer(n_components=3, device="cuda", random_state=0, **FAST).fit(X_small)
    path = tmp_path / "gpu.rrae"
    sklearn_rrae.save(model, path)
    np.save(tmp_path / "X.npy", X_small)
    np.save(tmp_path / "codes.npy", model.transform(X_small))
    script = (
        "import numpy as np, torch, sklearn_rrae, sys; assert not torch.cuda.is_available();"
        f"m = sklearn_rrae.load({str(path)!r}); X = np.load({str(tmp_path / 'X.npy')!r});"
        f"codes = np.load({str(tmp_path / 'codes.npy')!r});"
        "assert str(m.module_.basis.device) == 'cpu';"
        "np.testing.assert_allclose(m.transform(X), codes, rtol=1e-4, atol=1e-5 * np.abs(codes).max())"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_document_cannot_replace_methods(saved):
    document, arrays = saved
    document["state"]["__dict__"].append(["transform", {"__class__": "sklearn_rrae._rrae.RRAETransformer"}])
    with pytest.raises(
        ValueError, match="sets 'transform' on its RRAETransformer, which is not a fitted attribute"
    ):
        sklearn_rrae.load(_file(document, arrays))


def test_a_file_from_a_gpu_machine_loads_on_the_cpu(saved, X_small):
    # What save writes for a model fitted on a GPU: the same arrays (saved from the CPU
    # side), with the devices of that machine in the parameters and the plan.
    document, arrays = copy.deepcopy(saved[0]), saved[1]
    _set_param(document, "device", "cuda:0")
    plan = document["state"]["__dict__"]
    fields = next(v for k, v in plan if k == "_net_plan")["fields"]["__dict__"]
    next(pair for pair in fields if pair[0] == "device")[1] = "cuda:0"
    loaded = sklearn_rrae.load(_file(document, arrays))
    if not torch.cuda.is_available():
        assert str(loaded.module_.basis.device) == "cpu"
    original = sklearn_rrae.load(_file(*saved))
    assert original.device == "auto" and loaded.device == "cuda:0"
    np.testing.assert_array_equal(loaded.transform(X_small), original.transform(X_small))


def test_a_trusted_path_that_does_not_exist_is_a_clear_error(X_small):
    model = RRAETransformer(n_components=3, encoder=SmallEncoder, random_state=0, **FAST).fit(X_small)
    buffer = io.BytesIO()
    sklearn_rrae.save(model, buffer)
    document = json.loads(zipfile.ZipFile(buffer).read("model.json"))
    _set_param(document, "encoder", {"__class__": "tests.no_such_module.Encoder"})
    arrays = zipfile.ZipFile(buffer).read("arrays.safetensors")
    with pytest.raises(ValueError, match="no such class could be imported"):
        sklearn_rrae.load(_file(document, arrays), trusted=["tests.no_such_module.Encoder"])


def _plan_fields(document):
    plan = next(v for k, v in document["state"]["__dict__"] if k == "_net_plan")
    return plan["fields"]["__dict__"]


def _set_plan(document, name, value):
    next(pair for pair in _plan_fields(document) if pair[0] == name)[1] = value
    return document


def _deep(levels):
    tree = 1
    for _ in range(levels):
        tree = {"__tuple__": [tree]}
    return tree


MALFORMED = {
    "nested 400 deep": lambda d: _set_param(d, "tol", _deep(400)),
    "scalar overflow": lambda d: _set_param(d, "tol", {"__scalar__": 10**30, "dtype": "<i8"}),
    "bad device": lambda d: _set_param(d, "device", {"__device__": "no-such-device"}),
    "net not a mapping": lambda d: {**d, "net": 5},
    "history not a list": lambda d: d["net"].update(history=5) or d,
    "huge rank": lambda d: _set_plan(d, "rank", 10**12),
    "rank not an int": lambda d: _set_plan(d, "rank", "x"),
    "refit of a mixture": lambda d: _set_param(
        d,
        "density",
        {
            "__object__": "sklearn.mixture._gaussian_mixture.GaussianMixture",
            "params": {"__dict__": []},
            "refit": {"__tuple__": [None, None]},
        },
    ),
    "a parameter set as state": lambda d: d["state"]["__dict__"].append(["lr", 5.0]) or d,
    "a network through __object__": lambda d: _set_param(
        d,
        "density",
        {
            "__object__": "sklearn_rrae._cnn.ConvEncoder",
            "params": {"__dict__": []},
            "state": {
                "__dict__": [["_forward_hooks", {"__dict__": [[0, {"__function__": "builtins.print"}]]}]]
            },
        },
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_documents_are_value_errors(saved, case):
    document, arrays = copy.deepcopy(saved[0]), saved[1]
    with pytest.raises(ValueError):
        sklearn_rrae.load(_file(MALFORMED[case](document), arrays))


def test_compressed_beyond_what_save_writes_is_refused(saved):
    document, arrays = saved
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.json", json.dumps(document) + " " * (5 << 20))  # 5 MB of padding
        archive.writestr("arrays.safetensors", arrays)
    buffer.seek(0)
    with pytest.raises(ValueError, match="compressed beyond what save writes"):
        sklearn_rrae.load(buffer)


def test_weights_and_optimizer_state_of_the_wrong_kind_are_refused(saved):
    import safetensors.numpy

    document, arrays = saved
    tensors = safetensors.numpy.load(arrays)
    weight = next(n for n in tensors if n.endswith("net_.module_['encoder.residual.0.weight']"))
    moment = next(  # of a weight matrix: flattening a bias's moment would change nothing
        n for n, v in tensors.items() if "net_.optimizer_" in n and n.endswith("['exp_avg']") and v.ndim == 2
    )

    def to_float64(tensors):
        tensors[weight] = tensors[weight].astype(np.float64)

    with pytest.raises(ValueError, match="is torch.float64; the network holds torch.float32"):
        sklearn_rrae.load(_file(document, _arrays_with(arrays, to_float64)))

    def flatten(tensors):
        tensors[moment] = tensors[moment].ravel().copy()

    with pytest.raises(ValueError, match="optimizer state 'exp_avg' has shape"):
        sklearn_rrae.load(_file(document, _arrays_with(arrays, flatten)))


def test_numpy_parameters_and_fitted_sub_estimators_round_trip(X_small):
    from sklearn.mixture import GaussianMixture

    model = RRAETransformer(
        n_components=np.int64(3),
        latent_dim=np.int64(16),
        random_state=0,
        **{k: v for k, v in FAST.items() if k != "latent_dim"},
    ).fit(X_small)
    _assert_same_outputs(model, _round_trip(model), X_small)

    model = RRAETransformer(n_components=3, density=MixtureOfOne(), random_state=0, **FAST).fit(X_small)
    assert isinstance(model.density_.mixture_, GaussianMixture)
    _assert_same_outputs(model, _round_trip(model, trusted=[MixtureOfOne]), X_small)


class MixtureOfOne:
    """A custom density holding a fitted scikit-learn estimator in its fitted state."""

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def __repr__(self):
        return "MixtureOfOne()"

    def fit(self, X):
        from sklearn.mixture import GaussianMixture

        self.mixture_ = GaussianMixture(n_components=1, random_state=0).fit(X)
        return self

    def sample(self, n_samples=1):
        return self.mixture_.sample(n_samples)
