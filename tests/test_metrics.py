"""sklearn_rrae.metrics against hand-computed cases."""

import numpy as np
import pytest
import scipy.linalg

from sklearn_rrae.metrics import frechet_distance, precision_recall


def _with_moments(mean, cov, n=50, seed=0):
    """Rows whose sample mean and covariance (ddof=1) are exactly ``mean`` and ``cov``."""
    Z = np.random.RandomState(seed).normal(size=(n, len(mean)))
    Z -= Z.mean(axis=0)
    Z = Z @ np.linalg.inv(np.linalg.cholesky(np.cov(Z, rowvar=False))).T  # sample covariance I
    return Z @ np.linalg.cholesky(cov).T + mean


def test_frechet_distance_of_two_gaussians_with_known_moments():
    a = _with_moments(np.zeros(2), np.diag([1.0, 4.0]))
    b = _with_moments(np.array([1.0, 2.0]), np.diag([4.0, 9.0]), seed=1)
    # ||mu||^2 = 5, plus (1 - 2)^2 + (2 - 3)^2 from the standard deviations.
    assert frechet_distance(a, b) == pytest.approx(7.0)
    assert frechet_distance(b, a) == pytest.approx(7.0)


def test_frechet_distance_with_covariances_that_do_not_commute():
    cov_a = np.array([[2.0, 0.9], [0.9, 1.0]])
    cov_b = np.array([[1.0, -0.4], [-0.4, 3.0]])
    a = _with_moments(np.array([0.5, -1.0]), cov_a)
    b = _with_moments(np.zeros(2), cov_b, seed=1)
    expected = 1.25 + np.trace(cov_a + cov_b - 2 * scipy.linalg.sqrtm(cov_a @ cov_b).real)
    assert frechet_distance(a, b) == pytest.approx(expected)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    a = np.random.RandomState(0).normal(size=(200, 6))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-10)


def test_frechet_distance_refuses_mismatched_features():
    with pytest.raises(ValueError, match="same number of features"):
        frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="features_a needs at least 2 rows"):
        frechet_distance(np.zeros((1, 2)), np.zeros((5, 2)))


def test_precision_recall_by_hand():
    real = np.arange(5.0)[:, None]  # balls of radius 1 around 0..4 (k=1)
    generated = np.array([[0.5], [10.0]])  # balls of radius 9.5
    assert precision_recall(real, generated, k=1) == (0.5, 1.0)
    # k=2: the real radii (2nd nearest other real point) are 2, 1, 1, 1, 2.
    generated = np.array([[-1.5], [5.5], [6.5]])
    # -1.5 is within 2 of 0; 5.5 within 2 of 4; 6.5 is not: precision 2/3. The generated
    # radii (2nd neighbour among themselves): 8, 7, 8, so every real point is covered.
    assert precision_recall(real, generated, k=2) == (pytest.approx(2 / 3), 1.0)


def test_precision_recall_extremes():
    rng = np.random.RandomState(0)
    real = rng.normal(size=(100, 3))
    assert precision_recall(real, real) == (1.0, 1.0)
    assert precision_recall(real, real + 100.0) == (0.0, 0.0)


def test_precision_recall_refuses_bad_input():
    with pytest.raises(ValueError, match="'k' parameter"):
        precision_recall(np.zeros((5, 2)), np.zeros((5, 2)), k=0)
    with pytest.raises(ValueError, match="same number of features"):
        precision_recall(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="at least 4 rows"):
        precision_recall(np.zeros((3, 2)), np.zeros((5, 2)))
