"""Behaviour of RRAETransformer: fitted state, transform, dtypes, RNG, pickling."""

import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from skorch import NeuralNet
from skorch.callbacks import Callback

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer
from sklearn_rrae.datasets import make_shifted_sine

from .conftest import FAST


@pytest.fixture
def fitted(X_small):
    return RRAETransformer(n_components=3, random_state=0, **FAST).fit(X_small)


def test_fitted_attributes(fitted, X_small):
    k, L = 3, FAST["latent_dim"]
    assert fitted.n_components_ == k
    assert fitted.components_.shape == (k, L)
    np.testing.assert_allclose(fitted.components_ @ fitted.components_.T, np.eye(k), atol=1e-6)
    assert fitted.singular_values_.shape == (k,)
    assert np.all(np.diff(fitted.singular_values_) <= 0)
    assert fitted.n_iter_ == FAST["max_epochs"] == len(fitted.loss_curve_)
    assert fitted.n_features_in_ == X_small.shape[1]
    assert isinstance(fitted.net_, NeuralNet)
    assert isinstance(fitted.module_, torch.nn.Module)
    assert fitted.module_ is fitted.net_.module_
    assert fitted.transform(X_small).shape == (len(X_small), k)
    assert fitted.inverse_transform(fitted.transform(X_small)).shape == X_small.shape


def test_singular_values_are_the_norms_of_the_training_codes(fitted, X_small):
    codes = fitted.transform(X_small)
    np.testing.assert_allclose(np.linalg.norm(codes, axis=0), fitted.singular_values_, rtol=1e-4)


def encode(est, X):
    """The fitted encoder's latent of X, on whatever device the model lives."""
    est.module_.eval()
    with torch.no_grad():
        Xt = torch.as_tensor(est._scaling.to_model(X)).to(est.module_.basis.device)
        return est.module_.encode(Xt).cpu().numpy()


@pytest.mark.parametrize("n_samples", [12, 60], ids=["fewer-samples-than-latent", "more"])
@pytest.mark.parametrize("k", [2, None])
def test_basis_is_the_svd_of_the_encoded_training_set(X_small, n_samples, k):
    X = X_small[:n_samples]
    est = RRAETransformer(n_components=k, random_state=0, **FAST).fit(X)
    latent = encode(est, X).astype(np.float64)
    _, s, Vt = np.linalg.svd(latent)
    n_values = est.n_components_
    expected_s = np.zeros(n_values)
    expected_s[: min(n_values, len(s))] = s[:n_values]
    np.testing.assert_allclose(est.singular_values_, expected_s, rtol=1e-6, atol=1e-6 * s[0])
    if k is None:
        np.testing.assert_array_equal(est.components_, np.eye(FAST["latent_dim"]))
    else:
        # Same vectors up to sign.
        np.testing.assert_allclose(np.abs(est.components_ @ Vt[:k].T), np.eye(k), atol=1e-5)


def test_sign_convention_is_deterministic(fitted):
    largest = fitted.components_[np.arange(3), np.abs(fitted.components_).argmax(axis=1)]
    assert np.all(largest > 0)


def test_loss_curve_is_in_data_units(X_small):
    est = RRAETransformer(n_components=3, random_state=0, **{**FAST, "max_epochs": 60}).fit(X_small)
    # Last training loss (batch truncation) and the final reconstruction error
    # (global basis) measure the same thing in the same units.
    assert est.loss_curve_[-1] == pytest.approx(-est.score(X_small), rel=0.5)
    assert est.loss_curve_[-1] < est.loss_curve_[0]


def test_none_is_a_plain_autoencoder(X_small):
    est = RRAETransformer(n_components=None, random_state=0, **FAST).fit(X_small)
    L = FAST["latent_dim"]
    assert est.n_components_ == L
    assert est.module_.n_components is None
    np.testing.assert_allclose(est.components_ @ est.components_.T, np.eye(L), atol=1e-6)
    # A full orthonormal basis: transform is a rotation of the latent, nothing is lost.
    latent = encode(est, X_small)
    codes = est.transform(X_small.astype(np.float32))
    np.testing.assert_allclose(codes, latent @ est.components_.T, atol=1e-4)


def test_fit_transform_matches_fit_then_transform(X_small):
    est = RRAETransformer(n_components=2, random_state=0, **FAST)
    np.testing.assert_array_equal(est.fit_transform(X_small), est.fit(X_small).transform(X_small))


def test_transform_rows_do_not_depend_on_each_other(fitted, X_small):
    # Bit for bit, not only up to float32 rounding (fixed-size inference blocks).
    full = fitted.transform(X_small)
    np.testing.assert_array_equal(fitted.transform(X_small[:1]), full[:1])
    np.testing.assert_array_equal(fitted.transform(X_small[::-1]), full[::-1])
    np.testing.assert_array_equal(fitted.transform(X_small[[5, 40, 2]]), full[[5, 40, 2]])


def test_transform_and_inverse_transform_never_decompose(fitted, X_small, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("a decomposition was computed at transform time")

    for name in ("svd", "eigh", "svdvals", "eigvalsh"):
        monkeypatch.setattr(torch.linalg, name, forbidden)
    fitted.inverse_transform(fitted.transform(X_small))
    fitted.score(X_small)


class _DecoderInputRanks(Callback):
    """Records the rank of every batch latent that reaches the decoder in training."""

    def initialize(self):
        self.ranks = []
        return self

    def on_train_begin(self, net, **kwargs):
        def hook(module, args):
            if module.training:
                s = torch.linalg.svdvals(args[0].detach().double())
                self.ranks.append(int((s > 1e-5 * s[0]).sum()))

        net.module_.decoder.register_forward_pre_hook(hook)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_every_training_batch_latent_has_rank_k(X_small, k):
    recorder = _DecoderInputRanks()
    RRAETransformer(n_components=k, callbacks=[recorder], random_state=0, **FAST).fit(X_small)
    assert len(recorder.ranks) == FAST["max_epochs"] * 2  # 60 rows, batches of 32 and 28
    assert set(recorder.ranks) == {k}


def test_plain_autoencoder_batches_are_not_truncated(X_small):
    recorder = _DecoderInputRanks()
    RRAETransformer(n_components=None, callbacks=[recorder], random_state=0, **FAST).fit(X_small)
    assert min(recorder.ranks) > 4


def test_rank_one_beats_pca_on_shifted_sine():
    X_train, X_test, _, _ = make_shifted_sine(random_state=0)
    pca = PCA(n_components=1).fit(X_train)
    pca_err = np.linalg.norm(X_test - pca.inverse_transform(pca.transform(X_test))) / np.linalg.norm(X_test)
    est = RRAETransformer(
        n_components=1, hidden_layer_sizes=(64, 64), latent_dim=32, max_epochs=400, random_state=0
    )
    X_hat = est.fit(X_train).inverse_transform(est.transform(X_test))
    err = np.linalg.norm(X_test - X_hat) / np.linalg.norm(X_test)
    assert pca_err > 0.6
    assert err < 0.1


def test_score_is_negative_reconstruction_mse(fitted, X_small):
    X_hat = fitted.inverse_transform(fitted.transform(X_small))
    per_row = -np.mean((X_small - X_hat) ** 2, axis=1)
    np.testing.assert_allclose(fitted.score_samples(X_small), per_row, rtol=1e-5)
    assert fitted.score(X_small) == pytest.approx(per_row.mean(), rel=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_dtype_follows_input(X_small, dtype):
    X = X_small.astype(dtype)
    est = RRAETransformer(n_components=2, random_state=0, **FAST)
    assert est.fit_transform(X).dtype == dtype
    codes = est.transform(X)
    assert codes.dtype == dtype
    assert est.inverse_transform(codes).dtype == dtype
    assert est.score_samples(X).dtype == np.float64


def test_integer_input(X_small):
    X = np.round(X_small * 10).astype(np.int64)
    codes = RRAETransformer(n_components=2, random_state=0, **FAST).fit_transform(X)
    assert codes.dtype == np.float64 and np.isfinite(codes).all()


def test_random_state_reproducible_and_global_rng_untouched(X_small):
    torch.manual_seed(123)
    np.random.seed(123)
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()
    # From random weights: the seed's effect on them is what is tested (from the
    # PCA start, five epochs on these rows do not beat it and both fits are PCA's).
    a = RRAETransformer(n_components=2, init="random", random_state=7, **FAST).fit_transform(X_small)
    b = RRAETransformer(n_components=2, init="random", random_state=7, **FAST).fit_transform(X_small)
    c = RRAETransformer(n_components=2, init="random", random_state=8, **FAST).fit_transform(X_small)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert all(np.array_equal(x, y) for x, y in zip(np.random.get_state()[1:3], np_state[1:3], strict=True))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_input_is_not_modified(X_small):
    X = X_small.copy()
    X.setflags(write=False)
    est = RRAETransformer(n_components=2, random_state=0, **FAST).fit(X)
    est.inverse_transform(est.transform(X))
    est.score(X)
    np.testing.assert_array_equal(X, X_small)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_round_trip(fitted, X_small, dump, tmp_path):
    if dump == "pickle":
        loaded = pickle.loads(pickle.dumps(fitted))
    else:
        joblib.dump(fitted, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.transform(X_small), fitted.transform(X_small))
    codes = fitted.transform(X_small)
    np.testing.assert_array_equal(loaded.inverse_transform(codes), fitted.inverse_transform(codes))
    assert loaded.n_iter_ == fitted.n_iter_


def test_pickle_of_a_gpu_net_declares_the_cpu(fitted):
    # The module is on the CPU here; only the device the pickle declares is checked.
    fitted.net_.device = "cuda"
    state = fitted.__getstate__()
    assert state["net_"].device == "cpu"
    assert fitted.net_.device == "cuda"  # the live estimator is untouched


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_fitted_model_loads_and_transforms_without_cuda(X_small, tmp_path):
    est = RRAETransformer(n_components=2, device="cuda", random_state=0, **FAST).fit(X_small)
    path, data = tmp_path / "model.pkl", tmp_path / "X.npy"
    path.write_bytes(pickle.dumps(est))
    np.save(data, X_small)
    expected = est.transform(X_small)
    code = (
        "import pickle, sys, numpy as np, torch; assert not torch.cuda.is_available();"
        f"m = pickle.loads(open({str(path)!r}, 'rb').read());"
        f"sys.stdout.buffer.write(m.transform(np.load({str(data)!r})).tobytes())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        check=True,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    ).stdout
    got = np.frombuffer(out, dtype=expected.dtype).reshape(expected.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_feature_names(X_small):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X_small, columns=[f"f{i}" for i in range(X_small.shape[1])])
    est = RRAETransformer(n_components=2, random_state=0, **FAST).fit(df)
    assert list(est.feature_names_in_) == list(df.columns)
    assert list(est.get_feature_names_out()) == ["rraetransformer0", "rraetransformer1"]
    out = est.set_output(transform="pandas").transform(df)
    assert list(out.columns) == ["rraetransformer0", "rraetransformer1"]


def test_user_callbacks_and_history(X_small):
    class CountEpochs(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    counter = CountEpochs()
    est = RRAETransformer(n_components=2, callbacks=[counter], random_state=0, **FAST).fit(X_small)
    assert counter.epochs == FAST["max_epochs"]
    assert len(est.net_.history) == FAST["max_epochs"]


def test_skorch_early_stopping_callback_ends_training(X_small):
    from skorch.callbacks import EarlyStopping

    stop = EarlyStopping(monitor="train_loss", patience=2, threshold=10.0, threshold_mode="rel")
    est = RRAETransformer(n_components=2, callbacks=[stop], random_state=0, **{**FAST, "max_epochs": 50})
    est.fit(X_small)
    assert est.n_iter_ < 50
    assert est.components_.shape == (2, FAST["latent_dim"])


def test_optimizer_parameters_are_routed(X_small):
    est = RRAETransformer(
        n_components=2, optimizer=torch.optim.SGD, optimizer__momentum=0.9, lr=0.01, random_state=0, **FAST
    )
    assert est.get_params()["optimizer__momentum"] == 0.9
    est.set_params(optimizer__momentum=0.5)
    est.fit(X_small)
    group = est.net_.optimizer_.param_groups[0]
    assert group["momentum"] == 0.5 and group["lr"] == 0.01
    from sklearn.base import clone

    assert clone(est).get_params()["optimizer__momentum"] == 0.5


def test_an_optimizer_argument_it_does_not_take_is_named_as_the_user_set_it(X_small):
    est = RRAETransformer(n_components=2, optimizer=torch.optim.SGD, optimizer__betas=(0.9, 0.99), **FAST)
    with pytest.raises(TypeError, match="optimizer__betas is not an argument of SGD, which takes lr,"):
        est.fit(X_small)
    assert not hasattr(est, "net_")


def test_verbose_prints_skorch_table(X_small, capsys):
    est = RRAETransformer(n_components=2, verbose=1, random_state=0, **FAST).fit(X_small * 100)
    out = capsys.readouterr().out
    header, _, *rows = out.strip().splitlines()
    assert header.split() == ["epoch", "train_mse", "dur"]
    # The printed loss is in the data's units, as loss_curve_ (not skorch's scaled train_loss).
    printed = [float(row.split()[1]) for row in rows]
    np.testing.assert_allclose(printed, est.loss_curve_, rtol=1e-3)
    assert "\x1b[" not in out  # no ANSI colour codes in a log
    RRAETransformer(n_components=2, verbose=0, random_state=0, **FAST).fit(X_small)
    assert capsys.readouterr().out == ""


def test_verbose_adaptive_table_shows_the_rank(X_small, capsys):
    est = AdaptiveRRAETransformer(verbose=1, random_state=0, **FAST).fit(X_small)
    header, _, *rows = capsys.readouterr().out.strip().splitlines()
    assert header.split() == ["epoch", "rank", "train_mse", "dur"]
    assert int(rows[-1].split()[1]) == est.n_components_


def test_verbose_n_init_says_which_start_is_kept(X_small, capsys):
    est = RRAETransformer(n_components=2, n_init=2, verbose=1, random_state=0, **FAST).fit(X_small)
    out = capsys.readouterr().out
    kept = int(np.argmax(est.init_scores_)) + 1
    assert "start 1 of 2: trustworthiness" in out and "start 2 of 2: trustworthiness" in out
    assert f"kept start {kept};" in out


def test_max_epochs_auto_gives_small_data_enough_steps():
    X = np.random.RandomState(0).normal(size=(40, 6))
    est = RRAETransformer(n_components=2, latent_dim=8, hidden_layer_sizes=(8,)).fit(X)
    assert est.n_iter_ == 1000  # one batch per epoch: 1000 steps
    X = np.random.RandomState(0).normal(size=(4000, 6))
    params = dict(latent_dim=8, hidden_layer_sizes=(8,), batch_size=1000, early_stopping=False)
    est = RRAETransformer(n_components=2, **params).fit(X)
    assert est.n_iter_ == 250  # 4 batches per epoch


def test_cpu_device_and_auto(X_small):
    est = RRAETransformer(n_components=2, device="cpu", random_state=0, **FAST).fit(X_small)
    assert est.module_.basis.device.type == "cpu"
    auto = RRAETransformer(n_components=2, device="auto", random_state=0, **FAST).fit(X_small)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert auto.module_.basis.device.type == expected


def test_batch_size_larger_than_data_and_tiny_data():
    rng = np.random.RandomState(0)
    for n in (1, 2, 3):
        X = rng.normal(size=(n, 5))
        est = RRAETransformer(n_components=1, random_state=0, **{**FAST, "batch_size": 512})
        codes = est.fit_transform(X)
        assert codes.shape == (n, 1)
        assert np.isfinite(codes).all()
        assert np.isfinite(est.inverse_transform(codes)).all()


# init="random" as well: 60-80 rows, 5 epochs and no validation rows end at the PCA start
# (the training rows judge it), which would hide what training itself does with such data.
@pytest.mark.parametrize("init", ["auto", "random"])
def test_constant_features_and_different_scales(init):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 6)) * np.array([1e-3, 1.0, 1e3, 0.0, 5.0, 1e2]) + np.array([0, 0, 0, 7.0, 0, 0])
    est = RRAETransformer(n_components=2, init=init, random_state=0, **FAST).fit(X)
    X_hat = est.inverse_transform(est.transform(X))
    assert np.isfinite(X_hat).all()
    np.testing.assert_allclose(X_hat[:, 3], 7.0, rtol=1e-3)  # the constant column comes back


@pytest.mark.parametrize("init", ["auto", "random"])
@pytest.mark.parametrize("magnitude, dtype", [(1e30, np.float64), (1e300, np.float64), (1e30, np.float32)])
def test_huge_values_give_finite_output(X_small, magnitude, dtype, init):
    X = (X_small * magnitude).astype(dtype)
    est = RRAETransformer(n_components=2, init=init, random_state=0, **FAST).fit(X)
    codes = est.transform(X)
    X_hat = est.inverse_transform(codes)
    assert np.isfinite(codes).all() and np.isfinite(X_hat).all()
    if magnitude < 1e150:  # beyond, a squared error is not representable in float64
        assert np.isfinite(est.score(X))


@pytest.mark.parametrize("lr", [1e6, 1e12])
def test_absurd_learning_rate_raises_a_clear_error(X_small, lr):
    est = RRAETransformer(n_components=2, lr=lr, random_state=0, **{**FAST, "max_epochs": 20})
    with pytest.raises(ValueError, match=r"Training diverged.*Lower the learning rate `lr`"):
        est.fit(X_small)
    assert not hasattr(est, "components_")


def test_raw_mnist_pixels_beat_pca(shared_data):
    # Unscaled uint8 pixels with constant border columns, default settings but a
    # short budget: the held-out error must still be well below PCA's.
    data = np.load(shared_data / "mnist.npz")
    X = data["x_train"][:3000].reshape(3000, -1)
    X_test = data["x_test"][:1000].reshape(1000, -1)
    pca = PCA(n_components=10).fit(X)
    pca_mse = np.mean((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2)
    est = RRAETransformer(n_components=10, max_epochs=15, random_state=0).fit(X)
    assert -est.score(X_test) < 0.85 * pca_mse
