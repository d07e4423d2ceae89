"""Convolutional networks and networks of your own: the same estimator, other modules."""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.callbacks import Callback
from torch import nn

from sklearn_rrae import AdaptiveRRAETransformer, ConvDecoder, ConvEncoder, RRAETransformer

from .conftest import FAST

# Tiny CNN and training budget: behaviour only.
CNN = dict(
    latent_dim=16,
    max_epochs=3,
    batch_size=32,
    architecture="cnn",
    encoder__channels=(4, 8),
)


class TinyEncoder(nn.Module):
    """A network of the user's own: flat rows to latent vectors."""

    def __init__(self, n_features, latent_dim, width=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, width), nn.Tanh(), nn.Linear(width, latent_dim))

    def forward(self, X):
        return self.net(X)


class TinyDecoder(nn.Module):
    def __init__(self, latent_dim, n_features, width=8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim, width), nn.Tanh(), nn.Linear(width, n_features))

    def forward(self, Z):
        return self.net(Z)


class Recorder(nn.Module):
    """Takes ``**kwargs``: the estimator passes it everything it knows."""

    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = kwargs
        self.linear = nn.Linear(kwargs["n_features"], kwargs["latent_dim"])

    def forward(self, X):
        return self.linear(X)


class WrongWidth(nn.Module):
    def __init__(self, n_features, latent_dim):
        super().__init__()
        self.linear = nn.Linear(n_features, latent_dim + 1)

    def forward(self, X):
        return self.linear(X)


class WrongOutput(nn.Module):
    def __init__(self, latent_dim, n_features):
        super().__init__()
        self.linear = nn.Linear(latent_dim, n_features + 1)

    def forward(self, Z):
        return self.linear(Z)


class Broken(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.linear = nn.Linear(n_features + 3, 4)

    def forward(self, X):
        return self.linear(X)


class NotATensor(TinyEncoder):
    def forward(self, X):
        return {"z": self.net(X)}


@pytest.fixture(scope="module")
def digits():
    X, _ = load_digits(return_X_y=True)
    return X[:300]


@pytest.fixture(scope="module")
def cnn_digits(digits):
    return RRAETransformer(n_components=3, input_shape=(8, 8), random_state=0, **CNN).fit(digits)


# -- the networks themselves ------------------------------------------------------------


@pytest.mark.parametrize(
    "shape", [(28, 28), (16, 16), (8, 8), (64, 64), (3, 17, 9), (2, 5, 12), (1, 31), (7, 1), (1, 1)]
)
@pytest.mark.parametrize("kernel_size", [3, 4, 5])
@pytest.mark.parametrize("channels", [(4,), (4, 8, 16)])
def test_conv_networks_retrace_any_image_size(shape, kernel_size, channels):
    n = math.prod(shape)
    encoder = ConvEncoder(n, 12, shape, channels, kernel_size)
    decoder = ConvDecoder(12, n, shape, channels, kernel_size)
    Z = encoder(torch.randn(5, n))
    assert Z.shape == (5, 12)
    assert decoder(Z).shape == (5, n)


def test_conv_networks_downsample_by_strided_convolutions():
    encoder = ConvEncoder(784, 32, (28, 28), channels=(8, 16))
    decoder = ConvDecoder(32, 784, (28, 28), channels=(8, 16))
    convs = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
    assert [c.stride for c in convs] == [(2, 2), (2, 2)]
    assert encoder.linear.in_features == 16 * 7 * 7
    deconvs = [m for m in decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(d.in_channels, d.out_channels) for d in deconvs] == [(16, 8), (8, 1)]


def test_conv_networks_refuse_a_shape_that_does_not_hold_the_rows():
    with pytest.raises(ValueError, match="n_features=780"):
        ConvEncoder(780, 8, (28, 28))
    with pytest.raises(ValueError, match="channels"):
        ConvDecoder(8, 784, (28, 28), channels=())


# -- scikit-learn's checks --------------------------------------------------------------

CHECKED = [
    # Each row is a one-dimensional signal: the CNN fits whatever width the checks use.
    RRAETransformer(n_components=2, input_shape=(1, -1), **CNN),
    RRAETransformer(n_components=2, encoder=TinyEncoder, decoder=TinyDecoder, encoder__width=6, **FAST),
    AdaptiveRRAETransformer(input_shape=(1, -1), **CNN),
]


@parametrize_with_checks(CHECKED)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- round trips --------------------------------------------------------------------------


def test_cnn_round_trip_on_digits(cnn_digits, digits):
    codes = cnn_digits.transform(digits)
    assert codes.shape == (300, 3)
    assert cnn_digits.inverse_transform(codes).shape == (300, 64)
    assert cnn_digits.input_shape_ == (1, 8, 8)
    assert isinstance(cnn_digits.module_.encoder, ConvEncoder)
    assert isinstance(cnn_digits.module_.decoder, ConvDecoder)
    assert cnn_digits.components_.shape == (3, 16)
    assert cnn_digits.loss_curve_[-1] < cnn_digits.loss_curve_[0]


def test_cnn_transform_rows_do_not_depend_on_each_other(cnn_digits, digits):
    full = cnn_digits.transform(digits)
    some = cnn_digits.transform(digits[[5, 40, 2]])
    np.testing.assert_allclose(some, full[[5, 40, 2]], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cnn_dtype_follows_input(cnn_digits, digits, dtype):
    codes = cnn_digits.transform(digits.astype(dtype))
    assert codes.dtype == dtype
    assert cnn_digits.inverse_transform(codes).dtype == dtype


def test_cnn_pickle_round_trip(cnn_digits, digits):
    loaded = pickle.loads(pickle.dumps(cnn_digits))
    np.testing.assert_array_equal(loaded.transform(digits), cnn_digits.transform(digits))
    codes = cnn_digits.transform(digits)
    np.testing.assert_array_equal(loaded.inverse_transform(codes), cnn_digits.inverse_transform(codes))


def test_cnn_set_output_and_clone(cnn_digits, digits):
    pd = pytest.importorskip("pandas")
    est = clone(cnn_digits).set_output(transform="pandas")
    codes = est.fit_transform(pd.DataFrame(digits, columns=[f"pixel{i}" for i in range(64)]))
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == ["rraetransformer0", "rraetransformer1", "rraetransformer2"]
    np.testing.assert_array_equal(codes.to_numpy(), cnn_digits.transform(digits))
    params = clone(cnn_digits).get_params()
    assert params["architecture"] == "cnn" and params["input_shape"] == (8, 8)
    assert params["encoder__channels"] == (4, 8)


def test_cnn_every_training_batch_latent_has_rank_k(digits):
    ranks = []

    def hook(module, args):
        if module.training:
            s = torch.linalg.svdvals(args[0].detach().double())
            ranks.append(int((s > 1e-5 * s[0]).sum()))

    class Record(Callback):
        def on_train_begin(self, net, **kwargs):
            net.module_.decoder.register_forward_pre_hook(hook)

    est = RRAETransformer(n_components=2, input_shape=(8, 8), callbacks=[Record()], random_state=0, **CNN)
    est.fit(digits)
    assert ranks and set(ranks) == {2}


def test_cnn_random_state_reproducible(digits):
    a = RRAETransformer(n_components=2, input_shape=(8, 8), random_state=1, **CNN).fit_transform(digits)
    b = RRAETransformer(n_components=2, input_shape=(8, 8), random_state=1, **CNN).fit_transform(digits)
    c = RRAETransformer(n_components=2, input_shape=(8, 8), random_state=2, **CNN).fit_transform(digits)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("input_shape", [(16, 16), (1, 16, 16), (2, 8, 16), (3, 4, 7), (-1, 16), (4, -1, 4)])
def test_cnn_on_random_images_of_any_shape(input_shape):
    n_features = 256 if -1 in input_shape else math.prod(input_shape)
    X = np.random.RandomState(0).rand(80, n_features)
    est = RRAETransformer(n_components=2, input_shape=input_shape, random_state=0, **CNN).fit(X)
    assert math.prod(est.input_shape_) == n_features and len(est.input_shape_) == 3
    assert est.inverse_transform(est.transform(X)).shape == X.shape
    assert np.isfinite(est.score(X))


def test_cnn_layers_are_set_skorch_style_and_mirrored(digits):
    est = RRAETransformer(
        n_components=2, input_shape=(8, 8), random_state=0, **{**CNN, "encoder__kernel_size": 5}
    ).fit(digits)
    encoder, decoder = est.module_.encoder, est.module_.decoder
    assert [m.out_channels for m in encoder.modules() if isinstance(m, nn.Conv2d)] == [4, 8]
    assert [m.kernel_size for m in decoder.modules() if isinstance(m, nn.ConvTranspose2d)] == [(5, 5)] * 2
    est.set_params(decoder__channels=(2, 3)).fit(digits)
    deconvs = [m for m in est.module_.decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [m.in_channels for m in deconvs] == [3, 2]


def test_adaptive_cnn(digits):
    est = AdaptiveRRAETransformer(max_components=4, input_shape=(8, 8), random_state=0, **CNN).fit(digits)
    assert 1 <= est.n_components_ <= 4
    assert est.transform(digits).shape == (300, est.n_components_)


# -- networks of your own ---------------------------------------------------------------------


def test_custom_classes_get_the_sizes_they_take(digits):
    est = RRAETransformer(
        n_components=2, encoder=Recorder, decoder=TinyDecoder, input_shape=(8, 8), random_state=0, **FAST
    ).fit(digits)
    assert est.module_.encoder.kwargs == {"n_features": 64, "latent_dim": 16, "input_shape": (1, 8, 8)}
    assert est.transform(digits).shape == (300, 2)
    # Without input_shape, a **kwargs class is not handed a None.
    est = RRAETransformer(n_components=2, encoder=Recorder, random_state=0, **FAST).fit(digits)
    assert est.module_.encoder.kwargs == {"n_features": 64, "latent_dim": 16}
    assert isinstance(est.module_.decoder, nn.Sequential)  # the built-in MLP on the other side


def test_instances_are_copied_not_trained(digits):
    encoder, decoder = TinyEncoder(64, 16), TinyDecoder(16, 64)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    est = RRAETransformer(n_components=2, encoder=encoder, decoder=decoder, random_state=0, **FAST)
    first = est.fit_transform(digits)
    assert est.encoder is encoder and est.module_.encoder is not encoder
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())
    # Repeated fits and clones start from the same weights.
    np.testing.assert_array_equal(est.fit_transform(digits), first)
    np.testing.assert_array_equal(clone(est).fit_transform(digits), first)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.transform(digits), first)


def test_custom_classes_reproducible_and_routed(digits):
    params = dict(n_components=2, encoder=TinyEncoder, decoder=TinyDecoder, random_state=3, **FAST)
    est = RRAETransformer(encoder__width=5, **params)
    assert est.get_params()["encoder__width"] == 5
    a = est.fit_transform(digits)
    assert est.module_.encoder.net[0].out_features == 5
    np.testing.assert_array_equal(clone(est).fit_transform(digits), a)
    est.set_params(encoder__width=7).fit(digits)
    assert est.module_.encoder.net[0].out_features == 7


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"architecture": "cnn"}, ValueError, "input_shape"),
        ({"architecture": "cnn", "input_shape": (7, 7)}, ValueError, r"input_shape=\(7, 7\).*n_features=64"),
        ({"input_shape": (3, 5)}, ValueError, "input_shape"),
        ({"architecture": "cnn", "input_shape": (-1, 5)}, ValueError, "not a multiple of 5"),
        ({"architecture": "cnn", "input_shape": (-1, -1)}, ValueError, "input_shape"),
        ({"architecture": "cnn", "input_shape": (0, 64)}, ValueError, "input_shape"),
        ({"architecture": "cnn", "input_shape": (2, 2, 2, 8)}, ValueError, "input_shape"),
        ({"architecture": "cnn", "input_shape": "8x8"}, ValueError, "input_shape"),
        ({"architecture": "conv"}, ValueError, "architecture"),
        ({"encoder": int}, TypeError, "'encoder' must be a torch.nn.Module"),
        ({"decoder": "mlp"}, ValueError, "decoder"),
        ({"encoder": WrongWidth}, ValueError, r"encoder WrongWidth must map .*\(batch, 16\).*\(2, 17\)"),
        ({"decoder": WrongOutput}, ValueError, r"decoder WrongOutput.*\(batch, 64\).*\(2, 65\)"),
        ({"encoder": Broken}, ValueError, r"encoder Broken failed on a batch of shape \(2, 64\)"),
        ({"encoder": NotATensor}, ValueError, "returned an object of type dict"),
        ({"encoder": TinyEncoder, "encoder__depth": 3}, TypeError, "Could not build the encoder TinyEncoder"),
        ({"encoder": TinyEncoder(64, 16), "encoder__width": 3}, ValueError, "encoder__width only applies"),
        ({"encoder__channels": (8,)}, ValueError, "encoder__channels only applies to an 'encoder' class"),
        ({"encoder": TinyEncoder, "encoder__latent_dim": 3}, ValueError, "latent_dim' cannot be set"),
        ({"architecture": "cnn", "input_shape": (8, 8), "encoder__channels": ()}, ValueError, "channels"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_network_parameters_say_what_is_wrong(digits, params, error, message):
    est = RRAETransformer(n_components=2, **{**FAST, **params})
    with pytest.raises(error, match=message):
        est.fit(digits)
