"""sample(): codes drawn from a density fitted on the training codes, decoded."""

import copy

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture
from sklearn.neighbors import KernelDensity

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer

from .conftest import FAST


@pytest.fixture(scope="module")
def digits():
    X, _ = load_digits(return_X_y=True)
    return X[:400]


@pytest.fixture(scope="module")
def fitted(digits):
    return RRAETransformer(n_components=3, random_state=0, **FAST).fit(digits)


def test_sample_shape_dtype_and_reproducibility(fitted, digits):
    samples = fitted.sample(50, random_state=0)
    assert samples.shape == (50, digits.shape[1]) and samples.dtype == np.float64
    np.testing.assert_array_equal(samples, fitted.sample(50, random_state=0))
    assert not np.array_equal(samples, fitted.sample(50, random_state=1))
    X32 = digits.astype(np.float32)
    assert RRAETransformer(n_components=3, random_state=0, **FAST).fit(X32).sample(2).dtype == np.float32


def test_sampling_leaves_the_fitted_state_unchanged(fitted):
    before = copy.deepcopy(fitted.density_)
    fitted.sample(10)
    fitted.sample(10, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(fitted.density_.means_, before.means_)
    assert fitted.density_.random_state == before.random_state
    np.testing.assert_array_equal(fitted.sample(5, random_state=0), fitted.sample(5, random_state=0))


def test_samples_are_not_grouped_by_mixture_component(fitted):
    # GaussianMixture.sample returns its draws component by component.
    labels = fitted.density_.predict(fitted.transform(fitted.sample(200, random_state=0)))
    assert len(np.unique(labels[:20])) > 3


def test_samples_follow_the_training_codes(fitted, digits):
    # The default mixture fitted on the codes: sampled codes have their mean and spread.
    codes = fitted.transform(digits)
    sampled = fitted.transform(fitted.sample(4000, random_state=0))
    np.testing.assert_allclose(sampled.mean(axis=0), codes.mean(axis=0), atol=0.1 * codes.std(axis=0).max())
    np.testing.assert_allclose(sampled.std(axis=0), codes.std(axis=0), rtol=0.15)
    assert isinstance(fitted.density_, GaussianMixture) and fitted.density_.n_components == 10


@pytest.mark.parametrize(
    "density", [KernelDensity(bandwidth=0.5), BayesianGaussianMixture(n_components=3, random_state=0)]
)
def test_any_density_with_fit_and_sample(digits, density):
    model = RRAETransformer(n_components=2, random_state=0, density=density, **FAST).fit(digits)
    assert not hasattr(density, "tree_") and not hasattr(density, "means_")  # cloned, not fitted
    np.testing.assert_array_equal(model.sample(4, random_state=0), model.sample(4, random_state=0))


def test_sample_elsewhere(digits):
    plain = RRAETransformer(n_components=None, random_state=0, **FAST).fit(digits)
    assert plain.sample(3).shape == (3, 64)
    assert AdaptiveRRAETransformer(random_state=0, **FAST).fit(digits).sample(3).shape == (3, 64)
    streamed = RRAETransformer(n_components=2, random_state=0, **FAST)
    for chunk in np.array_split(digits, 2):
        streamed.partial_fit(chunk)
    assert streamed.sample(3).shape == (3, 64)
    tiny = RRAETransformer(n_components=2, random_state=0, **{**FAST, "batch_size": 8})
    assert tiny.fit(digits[:8]).density_.n_components == 8  # fewer codes than 10 components


def test_at_rank_samples_the_marginal_of_its_codes(digits):
    model = RRAETransformer(n_components=3, nested=True, random_state=0, **FAST).fit(digits)
    small = model.at_rank(2)
    samples = small.sample(5, random_state=0)
    full_codes = copy.deepcopy(model.density_).set_params(random_state=0).sample(5)[0]
    full_codes = full_codes[np.random.RandomState(0).permutation(5)]
    np.testing.assert_allclose(samples, small.inverse_transform(full_codes[:, :2].astype(np.float32)))


def test_sample_refuses_bad_input(fitted, digits):
    with pytest.raises(ValueError, match="'density' parameter"):
        RRAETransformer(n_components=2, density=object(), **FAST).fit(digits)
    with pytest.raises(ValueError, match="'density' parameter: GaussianMixture"):
        RRAETransformer(n_components=2, density=GaussianMixture(n_components=50), **FAST).fit(digits[:40])
    one_row = RRAETransformer(n_components=1, random_state=0, **{**FAST, "batch_size": 2}).fit(digits[:1])
    assert one_row.density_ is None
    with pytest.raises(ValueError, match="fitted on a single row"):
        one_row.sample()
    for bad in [0, -1, 2.5, True]:
        with pytest.raises(ValueError, match="'n_samples' parameter"):
            fitted.sample(bad)
