"""Generation quality on features the caller gives: Fréchet distance, precision and recall.

Both compare a set of generated samples with a set of real ones through feature
vectors of the caller's choosing (a classifier's penultimate layer, say); no
network is downloaded. numpy, scipy and scikit-learn only.
"""

import numbers

import numpy as np
from sklearn.metrics import pairwise_distances_chunked
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_array

__all__ = ["frechet_distance", "precision_recall"]


def _features(X, name, min_rows):
    X = check_array(X, dtype=np.float64, input_name=name)
    if X.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} rows; got {X.shape[0]}.")
    return X


def _check_same_width(A, B, names):
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of features; "
            f"got {A.shape[1]} and {B.shape[1]}."
        )


def frechet_distance(features_a, features_b):
    """Squared Fréchet distance between Gaussians fitted to two sets of feature vectors.

    ``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with the sample
    means and covariances (``ddof=1``) of the two sets: the FID of Heusel et al.
    (2017) when the features are those of an Inception network, here on any
    features. Zero for identical sets, symmetric, in squared feature units.

    Parameters
    ----------
    features_a : array-like of shape (n_samples_a, n_features)
        Features of one set (for instance generated samples).
    features_b : array-like of shape (n_samples_b, n_features)
        Features of the other (for instance real test images).

    Returns
    -------
    distance : float
        The squared Fréchet distance, >= 0.

    See Also
    --------
    precision_recall : Fidelity and coverage, in the k-nearest-neighbour sense.

    Notes
    -----
    The trace of the matrix square root is computed as the sum of the square
    roots of the eigenvalues of ``S_a^(1/2) S_b S_a^(1/2)``, a symmetric
    positive semi-definite matrix with the same eigenvalues as ``S_a S_b``,
    which avoids the complex round-off of a general ``sqrtm``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rrae.metrics import frechet_distance
    >>> a = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> b = a + [3.0, 0.0]  # the same covariance, the mean moved by 3
    >>> round(frechet_distance(a, b), 6)
    9.0
    >>> round(frechet_distance(a, 2 * a), 6)  # the same mean; sum of (1 - 2)^2 * 2/3 over 2 axes
    1.333333
    """
    A = _features(features_a, "features_a", 2)
    B = _features(features_b, "features_b", 2)
    _check_same_width(A, B, ("features_a", "features_b"))
    mean_term = float(np.sum((A.mean(axis=0) - B.mean(axis=0)) ** 2))
    cov_a, cov_b = np.atleast_2d(np.cov(A, rowvar=False)), np.atleast_2d(np.cov(B, rowvar=False))
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = float(np.sum(np.sqrt(np.clip(cross, 0, None))))
    return max(0.0, mean_term + float(np.trace(cov_a) + np.trace(cov_b)) - 2.0 * trace_root)


def _kth_neighbour_radii(X, k):
    """Distance of each row of ``X`` to its ``k``-th nearest other row."""
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    return distances[:, -1]


def _covered(points, centres, radii):
    """Whether each point lies in at least one ball ``(centre, radius)``."""
    out = np.zeros(len(points), dtype=bool)
    start = 0
    for block in pairwise_distances_chunked(points, centres):
        out[start : start + len(block)] = (block <= radii).any(axis=1)
        start += len(block)
    return out


def precision_recall(real_features, generated_features, *, k=3):
    """Precision and recall of generated samples, in the k-nearest-neighbour sense.

    Kynkäänniemi et al. (2019): each set's manifold is the union of balls around
    its points, of radius the distance to the point's ``k``-th nearest
    neighbour in its own set. **Precision** is the fraction of generated
    samples inside the real manifold (are samples realistic?); **recall** the
    fraction of real samples inside the generated manifold (is the variety of
    the data covered?).

    Parameters
    ----------
    real_features : array-like of shape (n_real, n_features)
        Features of the real samples.
    generated_features : array-like of shape (n_generated, n_features)
        Features of the generated samples.
    k : int, default=3
        The neighbour that sets each ball's radius (the paper's value).

    Returns
    -------
    precision : float
        In [0, 1].
    recall : float
        In [0, 1].

    See Also
    --------
    frechet_distance : One number for fidelity and coverage together.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rrae.metrics import precision_recall
    >>> real = np.arange(5.0)[:, None]  # 0, 1, 2, 3, 4: balls of radius 1 (k=1)
    >>> generated = np.array([[0.5], [10.0]])
    >>> precision_recall(real, generated, k=1)  # 0.5 is realistic; its ball covers all
    (0.5, 1.0)
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"The 'k' parameter must be an int >= 1. Got {k!r} instead.")
    real = _features(real_features, "real_features", k + 1)
    generated = _features(generated_features, "generated_features", k + 1)
    _check_same_width(real, generated, ("real_features", "generated_features"))
    precision = float(np.mean(_covered(generated, real, _kth_neighbour_radii(real, k))))
    recall = float(np.mean(_covered(real, generated, _kth_neighbour_radii(generated, k))))
    return precision, recall
