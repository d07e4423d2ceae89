"""Bad input gets a clear ValueError/TypeError that names the problem, nothing else."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sklearn_rrae import RRAETransformer

from .conftest import FAST


def make(**params):
    return RRAETransformer(**{"n_components": 2, "random_state": 0, **FAST, **params})


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[1.0, np.nan], [2.0, 3.0], [0.0, 1.0]]), "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [0.0, 1.0]]), "infinity"),
        (np.empty((0, 4)), "0 sample"),
        (np.empty((5, 0)), "0 feature"),
        (np.arange(10.0), "Expected 2D array"),
        (np.zeros((4, 3, 2)), "dim 3"),
        (np.array([["a", "b"], ["c", "d"], ["e", "f"]]), "string|could not convert|numeric"),
        (np.ones((5, 3)) * (1 + 1j), "[Cc]omplex"),
    ],
    ids=["nan", "inf", "empty-rows", "empty-cols", "1d", "3d", "strings", "complex"],
)
def test_bad_arrays_in_fit(X, message):
    with pytest.raises(ValueError, match=message):
        make().fit(X)


def test_sparse_input_is_refused():
    with pytest.raises(TypeError, match="[Ss]parse"):
        make().fit(sp.random(20, 5, density=0.5, format="csr", random_state=0))


@pytest.mark.parametrize("method", ["transform", "score", "score_samples"])
def test_bad_arrays_after_fit(X_small, method):
    est = make().fit(X_small)
    with pytest.raises(ValueError, match="X has 3 features, but RRAETransformer is expecting 10"):
        getattr(est, method)(X_small[:, :3])
    bad = X_small.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        getattr(est, method)(bad)


def test_inverse_transform_wrong_width(X_small):
    est = make().fit(X_small)
    with pytest.raises(ValueError, match="n_components_=2"):
        est.inverse_transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        est.inverse_transform(np.full((3, 2), np.nan))


def test_not_fitted(X_small):
    from sklearn.exceptions import NotFittedError

    for method in ("transform", "inverse_transform", "score", "score_samples"):
        with pytest.raises(NotFittedError):
            getattr(make(), method)(X_small)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"n_components": 0}, "n_components"),
        ({"n_components": -3}, "n_components"),
        ({"n_components": 2.5}, "n_components"),
        ({"n_components": "two"}, "n_components"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"latent_dim": -1}, "latent_dim"),
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (16, -4)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (16.5,)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": 16}, "hidden_layer_sizes"),
        ({"decoder_hidden_layer_sizes": (0,)}, "decoder_hidden_layer_sizes"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"max_epochs": "forever"}, "max_epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -32}, "batch_size"),
        ({"lr": -0.1}, "lr"),
        ({"lr": 0.0}, "lr"),
        ({"activation": "swishy"}, "activation"),
        ({"optimizer": "adam"}, "optimizer"),
        ({"optimizer": int}, "optimizer"),
        ({"device": "tpu9"}, "device"),
        ({"device": 3.5}, "device"),
        ({"callbacks": "early"}, "callbacks"),
        ({"random_state": "seed"}, "random_state"),
        ({"n_components": 17}, "n_components=17 must be <= latent_dim=16"),
        ({"n_components": 11}, r"n_components=11 must be <= min\(n_samples, n_features\)=10"),
        ({"batch_size": 2, "n_components": 2}, "batch_size=2 must be larger than n_components=2"),
        ({"optimzer__lr": 0.1}, "optimzer__lr"),
        ({"n_components": True}, "'n_components' parameter must be an int, not a bool"),
        ({"latent_dim": True}, "'latent_dim' parameter must be an int, not a bool"),
        ({"batch_size": True}, "'batch_size' parameter must be an int, not a bool"),
        ({"n_init": True}, "'n_init' parameter must be an int, not a bool"),
        ({"max_epochs": True}, "'max_epochs' parameter must be an int, not a bool"),
    ],
)
def test_bad_parameters_name_themselves(X_small, params, name):
    with pytest.raises((ValueError, TypeError), match=name):
        make(**params).fit(X_small)


def test_cuda_requested_without_cuda(X_small):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="device='cuda'.*CUDA is not available"):
        make(device="cuda").fit(X_small)


def test_too_few_samples_for_the_rank():
    with pytest.raises(ValueError, match="n_samples=1"):
        make(n_components=2).fit(np.ones((1, 5)))


def test_errors_are_not_torch_tracebacks(X_small):
    # The messages above come from our validation, before any torch code runs.
    with pytest.raises(ValueError) as info:
        make(activation="nope").fit(X_small)
    assert "torch" not in info.traceback[-1].path.as_posix()
