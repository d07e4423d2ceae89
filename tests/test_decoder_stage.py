"""The decoder's second stage (``decoder_epochs``): on the global basis, validated, off on small data."""

import numpy as np
import pytest
import torch

import sklearn_rrae._callbacks as callbacks
from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer
from sklearn_rrae._decoder_stage import DecoderOnCodes
from sklearn_rrae._module import RRAEModule
from sklearn_rrae._truncation import nested_ranks

from .conftest import FAST, wide_rows

PLAIN = dict(FAST, early_stopping=False, init="random")


def _decoded(model, X):
    return model.inverse_transform(model.transform(X))


def _reconstruction_mse(model, X):
    return float(np.mean((X - _decoded(model, X)) ** 2))


def test_auto_is_off_on_small_data_without_validation_rows(X_small):
    # 60 rows: the 10 % split would give 6 validation rows, too few, so nothing validates.
    model = RRAETransformer(n_components=3, random_state=0, **FAST).fit(X_small)
    assert model.decoder_n_iter_ == 0
    assert model.decoder_loss_curve_ == [] and model.decoder_validation_scores_ is None


def test_auto_trains_half_the_epochs_on_more_than_10000_rows():
    rng = np.random.RandomState(0)
    X = np.tanh(rng.normal(size=(10_001, 2)) @ rng.normal(size=(2, 6)))
    model = RRAETransformer(
        n_components=2,
        latent_dim=8,
        hidden_layer_sizes=(8,),
        max_epochs=3,
        batch_size=2048,
        init="random",  # 3 epochs do not beat a PCA start, which would end the fit there
        random_state=0,
    ).fit(X)
    assert model.decoder_n_iter_ == 2 == len(model.decoder_loss_curve_)  # ceil(3 / 2)
    assert len(model.decoder_validation_scores_) == 2  # validated, like training (patience 10)


@pytest.mark.parametrize(
    "n_features, early_stopping, init, epochs",
    [(150, "auto", "auto", 6), (150, False, "auto", 0), (10, "auto", "auto", 0), (150, "auto", "random", 0)],
)
def test_auto_trains_six_tenths_of_the_epochs_on_wide_validated_data_after_a_pca_start(
    n_features, early_stopping, init, epochs, pca_start_not_scored
):
    # 120 rows, 108 of them to train: 150 features are more, 10 fewer (no stage there).
    X = wide_rows(n_features)
    params = {**FAST, "max_epochs": 10}  # the stage's patience is 10: it runs all 6 epochs
    model = RRAETransformer(
        n_components=3, random_state=0, init=init, early_stopping=early_stopping, **params
    ).fit(X)
    assert model.decoder_n_iter_ == epochs


def _sine_curve_rows():
    """120 rows of 150 features on a closed curve: wide, validated, far from linear at k = 2."""
    rng = np.random.RandomState(0)
    t = rng.uniform(0, 2 * np.pi, size=(120, 1))
    return np.sin(t * rng.uniform(0.5, 1.5, size=150) + rng.uniform(0, 2 * np.pi, size=150))


def _end_over_start(model):
    """Training's best validation MSE over its PCA start's."""
    return model.best_validation_score_ / model.start_validation_score_


def test_auto_skips_the_stage_where_training_more_than_halved_the_start_s_validation_error():
    X = _sine_curve_rows()
    generalises = RRAETransformer(n_components=2, random_state=0, **{**FAST, "max_epochs": 50}).fit(X)
    assert _end_over_start(generalises) < 0.5  # 0.045 when written
    assert generalises._net_plan.decoder_stage_min_start_fraction == 0.5
    assert generalises.decoder_n_iter_ == 0
    # Where training stayed nearer its start, the stage runs (6 tenths of 100 epochs).
    closer = RRAETransformer(n_components=1, random_state=0, **{**FAST, "max_epochs": 100}).fit(X)
    assert not closer.start_kept_ and _end_over_start(closer) >= 0.5  # 0.689 when written
    assert closer.decoder_n_iter_ > 0
    # Epochs given: the stage runs whatever training reached.
    params = {**FAST, "max_epochs": 50, "decoder_epochs": 4}
    asked = RRAETransformer(n_components=2, random_state=0, **params).fit(X)
    assert asked._net_plan.decoder_stage_min_start_fraction is None
    assert asked.decoder_n_iter_ == 4


def test_auto_is_off_for_the_cnn():
    X = np.random.RandomState(0).uniform(size=(10_001, 16))
    model = RRAETransformer(
        n_components=2,
        architecture="cnn",
        input_shape=(4, 4),
        encoder__channels=(4,),
        latent_dim=8,
        max_epochs=1,
        batch_size=2048,
        random_state=0,
    ).fit(X)
    assert model.decoder_n_iter_ == 0


def test_the_stage_trains_the_decoder_on_the_global_basis_and_leaves_the_codes(X_small):
    before = RRAETransformer(n_components=3, random_state=0, decoder_epochs=0, **PLAIN).fit(X_small)
    after = RRAETransformer(n_components=3, random_state=0, decoder_epochs=20, **PLAIN).fit(X_small)
    # Same encoder, same basis: the same codes, bit for bit.
    np.testing.assert_array_equal(after.transform(X_small), before.transform(X_small))
    np.testing.assert_array_equal(after.components_, before.components_)
    assert after.decoder_n_iter_ == 20 and after.decoder_validation_scores_ is None
    # The decoder was trained on inverse_transform's path: its training error went down.
    assert _reconstruction_mse(after, X_small) < 0.9 * _reconstruction_mse(before, X_small)
    assert after.decoder_loss_curve_[-1] < after.decoder_loss_curve_[0]
    again = RRAETransformer(n_components=3, random_state=0, decoder_epochs=20, **PLAIN).fit(X_small)
    np.testing.assert_array_equal(_decoded(again, X_small), _decoded(after, X_small))


def _validated(X, **params):
    return RRAETransformer(
        n_components=3, random_state=0, decoder_epochs=10, early_stopping=True, init="random", **params
    ).fit(X)


def test_a_validated_stage_keeps_the_decoder_it_started_from_unless_beaten(X_small, monkeypatch):
    params = dict(latent_dim=16, hidden_layer_sizes=(32,), max_epochs=5, batch_size=32)
    without = RRAETransformer(
        n_components=3, random_state=0, decoder_epochs=0, early_stopping=True, init="random", **params
    ).fit(X_small)
    monkeypatch.setattr(callbacks, "beats", lambda errors, reference: False)
    never = _validated(X_small, **params)
    assert len(never.decoder_validation_scores_) == never.decoder_n_iter_ > 0
    np.testing.assert_array_equal(_decoded(never, X_small), _decoded(without, X_small))
    monkeypatch.setattr(callbacks, "beats", lambda errors, reference: True)
    always = _validated(X_small, **params)
    assert not np.array_equal(_decoded(always, X_small), _decoded(without, X_small))


def test_nested_stage_trains_each_row_at_its_rank():
    k, latent_dim = 4, 6
    rrae = RRAEModule(torch.nn.Identity(), torch.nn.Identity(), latent_dim, k, torch.ones(latent_dim))
    basis = torch.linalg.qr(torch.randn(latent_dim, k, generator=torch.Generator().manual_seed(0))).Q.mT
    rrae.set_basis(basis)
    codes = torch.randn(9, k, generator=torch.Generator().manual_seed(1))
    stage = DecoderOnCodes(rrae, nested=True).train()
    kept = torch.arange(k) < nested_ranks(9, k)[:, None]
    torch.testing.assert_close(stage(codes), (codes * kept) @ basis)
    torch.testing.assert_close(stage.eval()(codes), codes @ basis)  # validated at the full rank
    assert DecoderOnCodes(rrae).decoder is rrae.decoder  # the stage trains the model's own decoder


def test_partial_fit_and_plain_autoencoder_have_no_stage(X_small):
    model = RRAETransformer(n_components=3, random_state=0, decoder_epochs=5, **FAST).partial_fit(X_small)
    assert model.decoder_n_iter_ == 0
    plain = RRAETransformer(n_components=None, random_state=0, decoder_epochs=5, **FAST).fit(X_small)
    assert plain.decoder_n_iter_ == 0


def test_adaptive_runs_the_stage_at_its_final_rank(X_small):
    model = AdaptiveRRAETransformer(random_state=0, decoder_epochs=3, **PLAIN).fit(X_small)
    assert model.decoder_n_iter_ == 3
    assert model.inverse_transform(model.transform(X_small)).shape == X_small.shape


@pytest.mark.parametrize("value", [-1, 1.5, True, "all"])
def test_bad_decoder_epochs_names_the_parameter(X_small, value):
    with pytest.raises(ValueError, match="decoder_epochs"):
        RRAETransformer(n_components=3, decoder_epochs=value, **FAST).fit(X_small)
