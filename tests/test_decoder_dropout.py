"""decoder_dropout: where it puts dropout, that it acts in training only, and "auto"'s second stage.

Files: test_persistence; the stage's epochs: test_decoder_stage.
"""

import numpy as np
import pytest
import torch
from torch import nn

import sklearn_rrae._decoder_stage as decoder_stage
from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer
from sklearn_rrae._networks import dropout_rate

from .conftest import FAST, wide_rows


def _dropouts(module):
    return [m.p for m in module.modules() if isinstance(m, nn.Dropout)]


def _fit(X, **params):
    return RRAETransformer(**{"n_components": 2, "random_state": 0, **FAST, **params}).fit(X)


@pytest.mark.filterwarnings("ignore::sklearn_rrae.LinearStartKeptWarning")
@pytest.mark.parametrize(
    "params, expected",
    [
        # "auto": the layers are there at rate 0 (the second stage sets its own, then puts 0 back).
        (dict(), [0.0]),
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


def test_auto_drops_in_the_validated_second_stage_only(pca_start_not_scored):
    X = wide_rows()
    auto = _fit(X, n_components=3, decoder_dropout="auto")
    plan = auto._net_plan
    assert plan.pca_start
    assert auto.decoder_n_iter_ == 3 == len(auto.decoder_validation_scores_)  # ceil(0.6 * 5), validated
    assert (plan.network.decoder_dropout, plan.decoder_stage_dropout) == (0.0, 0.3)
    assert _dropouts(auto.net_.module_.decoder) == [0.0]  # training's rate is back after the stage
    none = _fit(X, n_components=3, decoder_dropout=0.0)
    assert none._net_plan.decoder_stage_dropout == 0.0
    # The same first stage (no dropout in either), then different stages: dropout acted there.
    np.testing.assert_array_equal(auto.loss_curve_, none.loss_curve_)
    assert auto.decoder_loss_curve_ != none.decoder_loss_curve_
    # Without validation rows nothing would judge the stage: no dropout there.
    unvalidated = _fit(X, n_components=3, early_stopping=False, decoder_epochs=3)
    assert unvalidated._net_plan.decoder_stage_dropout == 0.0
    # Fewer features than training rows: no stage, and none with dropout when one is asked for.
    narrow = wide_rows(n_features=10)
    assert _fit(narrow, n_components=3).decoder_n_iter_ == 0
    asked = _fit(narrow, n_components=3, decoder_epochs=2)
    assert asked.decoder_n_iter_ == 2 and asked._net_plan.decoder_stage_dropout == 0.0
    # From random weights (the adaptive estimator's start): not measured, not run.
    assert _fit(X, n_components=3, init="random").decoder_n_iter_ == 0
    adaptive = AdaptiveRRAETransformer(max_components=4, random_state=0, **FAST).fit(X)
    assert adaptive.decoder_n_iter_ == 0


class _DecoderWithItsOwnDropout(nn.Module):
    rates_seen = []

    def __init__(self):
        super().__init__()
        self.hidden, self.drop, self.out = nn.Linear(16, 32), nn.Dropout(0.5), nn.Linear(32, 150)

    def forward(self, Z):
        if self.training:
            type(self).rates_seen.append(self.drop.p)
        return self.out(self.drop(torch.relu(self.hidden(Z))))


def test_auto_leaves_the_dropout_of_a_custom_decoder_alone(monkeypatch):
    monkeypatch.setattr(_DecoderWithItsOwnDropout, "rates_seen", [])
    model = _fit(wide_rows(), n_components=3, decoder=_DecoderWithItsOwnDropout, decoder_epochs=2)
    assert model.decoder_n_iter_ == 2 and model._net_plan.decoder_stage_dropout is None
    assert set(_DecoderWithItsOwnDropout.rates_seen) == {0.5}  # in training and in the stage


def test_the_validated_stage_averages_the_weights(monkeypatch, pca_start_not_scored):
    made = []

    class Spy(decoder_stage.WeightAverage):
        def __init__(self):
            super().__init__()
            made.append(self)

    monkeypatch.setattr(decoder_stage, "WeightAverage", Spy)
    _fit(wide_rows(), n_components=3)
    assert len(made) == 1  # the stage's (training's average is built elsewhere)
    _fit(wide_rows(), n_components=3, early_stopping=False, decoder_epochs=2)
    assert len(made) == 1  # no validation rows, no average


def test_dropout_rate_sets_every_dropout_layer_and_puts_the_rates_back():
    network = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Dropout(0.1)), nn.Dropout(0.0))
    with pytest.raises(RuntimeError, match="inside"):
        with dropout_rate(network, 0.3):
            assert _dropouts(network) == [0.3, 0.3]
            raise RuntimeError("inside")
    assert _dropouts(network) == [0.1, 0.0]
