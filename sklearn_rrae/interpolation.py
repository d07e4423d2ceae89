"""Generate new samples by interpolating latent codes (the RRAE paper's test protocol).

When the training samples come from known parameters (a shift, a pair of
centres), the codes of new parameters can be interpolated from the training
codes and decoded: linear interpolation in 1-D, multilinear on a regular grid.
"""

import numpy as np
from scipy.interpolate import RegularGridInterpolator
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["interpolate_codes", "interpolate_samples"]


def _as_params(p, name):
    p = check_array(p, ensure_2d=False, dtype=np.float64, input_name=name)
    return p[:, None] if p.ndim == 1 else p


def _grid_axes(p_train):
    """The axes of the regular grid that ``p_train`` enumerates, or raise."""
    axes = [np.unique(p_train[:, j]) for j in range(p_train.shape[1])]
    if np.prod([len(a) for a in axes]) != len(p_train):
        raise ValueError(
            "p_train must be the full Cartesian product of its values along each "
            f"parameter (a regular grid); got {len(p_train)} points for axes of sizes "
            f"{[len(a) for a in axes]}."
        )
    return axes


def interpolate_codes(p_train, codes_train, p_new):
    """Codes at new parameters, interpolated from the codes at known parameters.

    With one parameter, each code column is interpolated linearly in it; with
    several, the training parameters must form a regular grid (every
    combination of the values along each parameter, in any order) and the
    interpolation is multilinear on that grid. New parameters must lie inside
    the range of the training ones.

    Parameters
    ----------
    p_train : array-like of shape (n_train,) or (n_train, n_params)
        Parameters of the training samples.
    codes_train : array-like of shape (n_train, n_components)
        Their codes, e.g. ``model.transform(X_train)``.
    p_new : array-like of shape (n_new,) or (n_new, n_params)
        Parameters at which to interpolate.

    Returns
    -------
    codes_new : ndarray of shape (n_new, n_components)
        The interpolated codes, one row per row of ``p_new``.

    See Also
    --------
    interpolate_samples : Interpolate the codes and decode them with a model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rrae.interpolation import interpolate_codes
    >>> interpolate_codes([0.0, 1.0, 2.0], [[0.0], [10.0], [30.0]], [0.5, 1.5])
    array([[ 5.],
           [20.]])
    """
    p_train = _as_params(p_train, "p_train")
    p_new = _as_params(p_new, "p_new")
    codes_train = check_array(codes_train, dtype=np.float64, input_name="codes_train")
    if len(codes_train) != len(p_train):
        raise ValueError(
            f"codes_train has {len(codes_train)} rows but p_train has {len(p_train)}: one code per "
            "training parameter is needed."
        )
    if p_new.shape[1] != p_train.shape[1]:
        raise ValueError(
            f"p_new has {p_new.shape[1]} parameters per sample but p_train has {p_train.shape[1]}."
        )
    low, high = p_train.min(axis=0), p_train.max(axis=0)
    slack = 1e-12 * (1 + np.maximum(np.abs(low), np.abs(high)))
    if np.any(p_new < low - slack) or np.any(p_new > high + slack):
        raise ValueError("p_new must lie inside the range of p_train: extrapolation is not supported.")
    axes = _grid_axes(p_train)
    order = np.lexsort(p_train.T[::-1])  # sort by the first parameter, then the next...
    values = codes_train[order].reshape(*[len(a) for a in axes], codes_train.shape[1])
    if any(len(a) < 2 for a in axes):
        raise ValueError("Each parameter needs at least two distinct training values to interpolate.")
    interpolator = RegularGridInterpolator(axes, values, method="linear")
    return interpolator(np.clip(p_new, low, high))


def interpolate_samples(estimator, p_train, p_new, X_train=None, codes_train=None):
    """Samples at new parameters: interpolated codes, decoded by a fitted model.

    Parameters
    ----------
    estimator : fitted transformer with ``transform`` and ``inverse_transform``
        An RRAE, or any other (PCA, KernelPCA with ``fit_inverse_transform``).
    p_train : array-like of shape (n_train,) or (n_train, n_params)
        Parameters of the training samples.
    p_new : array-like of shape (n_new,) or (n_new, n_params)
        Parameters at which to generate samples.
    X_train : array-like of shape (n_train, n_features), default=None
        Training samples, encoded with ``estimator.transform``; give either this
        or ``codes_train``.
    codes_train : array-like of shape (n_train, n_components), default=None
        Codes of the training samples.

    Returns
    -------
    X_new : ndarray of shape (n_new, n_features)
        ``estimator.inverse_transform`` of the interpolated codes.

    See Also
    --------
    interpolate_codes : The interpolation alone.
    sklearn_rrae.datasets : Families of signals with known parameters.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from sklearn_rrae.datasets import make_shifted_sine
    >>> from sklearn_rrae.interpolation import interpolate_samples
    >>> X_train, X_test, p_train, p_test = make_shifted_sine(n_test=5, random_state=0)
    >>> pca = PCA(n_components=2).fit(X_train)
    >>> X_new = interpolate_samples(pca, p_train, p_test, X_train=X_train)
    >>> X_new.shape
    (5, 200)
    """
    check_is_fitted(estimator)
    if (X_train is None) == (codes_train is None):
        raise ValueError("Give exactly one of X_train and codes_train.")
    if codes_train is None:
        codes_train = estimator.transform(X_train)
    codes_new = interpolate_codes(p_train, codes_train, p_new)
    return estimator.inverse_transform(codes_new.astype(np.asarray(codes_train).dtype, copy=False))
