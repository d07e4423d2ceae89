import numpy as np
import pytest
from sklearn.decomposition import PCA

from sklearn_rrae.datasets import make_shifted_sine, make_two_gaussians
from sklearn_rrae.interpolation import interpolate_codes, interpolate_samples


def test_linear_in_one_dimension():
    p = np.array([2.0, 0.0, 1.0])  # any order
    codes = np.array([[4.0, -2.0], [0.0, 0.0], [1.0, -1.0]])
    out = interpolate_codes(p, codes, [0.5, 1.5, 2.0])
    np.testing.assert_allclose(out, [[0.5, -0.5], [2.5, -1.5], [4.0, -2.0]])


def test_multilinear_on_a_grid_is_exact_for_bilinear_functions():
    a, b = np.meshgrid([0.0, 1.0, 3.0], [-1.0, 2.0], indexing="ij")
    p = np.column_stack([a.ravel(), b.ravel()])[::-1]  # shuffled order is fine
    f = lambda q: np.column_stack([1 + 2 * q[:, 0] - q[:, 1] + 0.5 * q[:, 0] * q[:, 1]])  # noqa: E731
    p_new = np.random.RandomState(0).uniform([0, -1], [3, 2], size=(20, 2))
    np.testing.assert_allclose(interpolate_codes(p, f(p), p_new), f(p_new))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="regular grid"):
        interpolate_codes([[0, 0], [1, 0], [0, 1]], np.zeros((3, 1)), [[0.5, 0.5]])
    with pytest.raises(ValueError, match="inside the range"):
        interpolate_codes([0.0, 1.0], [[0.0], [1.0]], [1.5])
    with pytest.raises(ValueError, match="one code per"):
        interpolate_codes([0.0, 1.0, 2.0], [[0.0], [1.0]], [0.5])
    with pytest.raises(ValueError, match="parameters per sample"):
        interpolate_codes([0.0, 1.0], [[0.0], [1.0]], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="exactly one"):
        interpolate_samples(PCA(1).fit(np.eye(3)), [0.0, 1.0], [0.5])


def test_samples_through_pca_on_the_shifted_sine():
    X_train, X_test, p_train, p_test = make_shifted_sine(random_state=0)
    pca = PCA(n_components=2).fit(X_train)
    X_new = interpolate_samples(pca, p_train, p_test, X_train=X_train)
    # The family is a rank-2 linear space; codes are (cos, sin) of the shift:
    # linear interpolation between 17 points on the circle is close, not exact.
    assert X_new.shape == X_test.shape
    assert np.linalg.norm(X_new - X_test) / np.linalg.norm(X_test) < 0.03
    same = interpolate_samples(pca, p_train, p_test, codes_train=pca.transform(X_train))
    np.testing.assert_allclose(same, X_new)


def test_grid_protocol_on_two_gaussians():
    X_train, _, p_train, _ = make_two_gaussians(n_test=5, random_state=0)
    pca = PCA(n_components=4).fit(X_train)
    # At the training parameters the interpolation returns the training codes.
    np.testing.assert_allclose(
        interpolate_samples(pca, p_train, p_train, X_train=X_train),
        pca.inverse_transform(pca.transform(X_train)),
        atol=1e-10,
    )
