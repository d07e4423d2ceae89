"""decoder_dropout: where it puts dropout, and that it acts in training only (files: test_persistence)."""

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer

from .conftest import FAST


def _dropouts(module):
    return [m.p for m in module.modules() if isinstance(m, nn.Dropout)]


def _fit(X, **params):
    return RRAETransformer(**{"n_components": 2, "random_state": 0, **FAST, **params}).fit(X)


@pytest.mark.filterwarnings("ignore::sklearn_rrae.LinearStartKeptWarning")
@pytest.mark.parametrize(
    "params, expected",
    [
        (dict(), []),  # off by default
        # After each hidden activation of the decoder (here its two), never in the encoder.
        (dict(decoder_dropout=0.3, hidden_layer_sizes=(32, 32)), [0.3, 0.3]),
        (dict(decoder_dropout=0.1, init="random", early_stopping=True), [0.1]),
        (dict(decoder_dropout=0.1, n_components=None), [0.1]),  # the plain autoencoder too
    ],
)
def test_dropout_goes_after_the_decoder_s_hidden_activations(X_small, params, expected):
    model = _fit(X_small, **params)
    assert _dropouts(model.net_.module_.decoder) == expected
    assert _dropouts(model.net_.module_.encoder) == []


def test_the_adaptive_estimator_takes_it(X_small):
    model = AdaptiveRRAETransformer(max_components=4, decoder_dropout=0.2, random_state=0, **FAST)
    model.fit(X_small)
    assert _dropouts(model.net_.module_.decoder) == [0.2]


def test_dropout_acts_while_training_and_never_at_inference(X_small):
    model = _fit(X_small, early_stopping=False, decoder_dropout=0.5, init="random")
    module = model.net_.module_
    assert not module.training  # the fitted net is left in evaluation mode
    codes = model.transform(X_small)
    np.testing.assert_array_equal(model.transform(X_small), codes)
    np.testing.assert_array_equal(model.inverse_transform(codes), model.inverse_transform(codes))
    # In training mode two passes of the same rows differ.
    Z = torch.as_tensor(model._scaling.to_model(X_small))
    module.train()
    try:
        with torch.no_grad():
            assert not torch.equal(module(Z), module(Z))
    finally:
        module.eval()


def test_weights_keep_the_names_of_the_mlp_without_dropout(X_small):
    with_dropout = _fit(X_small, early_stopping=False, decoder_dropout=0.3)
    without = _fit(X_small, early_stopping=False, decoder_dropout=0.0)
    assert list(with_dropout.net_.module_.state_dict()) == list(without.net_.module_.state_dict())


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(architecture="cnn", input_shape=(2, 5)), "the built-in CNN"),
        (dict(decoder=nn.Linear(16, 10)), "a custom network"),
    ],
)
def test_dropout_outside_the_built_in_mlp_decoder_is_refused(X_small, params, match):
    with pytest.raises(ValueError, match=f"decoder_dropout=0.2 applies to the built-in MLP decoder.*{match}"):
        _fit(X_small, decoder_dropout=0.2, **params)


@pytest.mark.parametrize("value", [1.0, -0.1, "high", True])
def test_invalid_values_name_the_parameter(X_small, value):
    with pytest.raises((ValueError, TypeError), match="decoder_dropout"):
        _fit(X_small, decoder_dropout=value)
