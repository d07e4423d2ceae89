"""Choosing the rank with scikit-learn's model selection tools.

A score that measures reconstruction always improves with the rank, and a
downstream score (a classifier's accuracy on the codes) usually levels off:
the best score then sits at some large rank, while a much smaller one is as
good within noise. :func:`smallest_rank_refit` gives ``GridSearchCV`` a
``refit`` callable that refits the *smallest* rank whose mean test score is
within a tolerance of the best. :func:`neg_reconstruction_mse` is a scorer
that measures the same thing for any transformer with an ``inverse_transform``,
so that PCA and RRAE can be compared in one search.
"""

import functools
import math
import numbers

import numpy as np
from sklearn.utils.validation import check_array

__all__ = ["neg_reconstruction_mse", "select_smallest_rank", "smallest_rank_refit"]

_RANK_NAME = "n_components"


def _check_tol(tol, relative):
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not math.isfinite(tol) or tol < 0:
        raise ValueError(f"The 'tol' parameter must be a finite real number >= 0. Got {tol!r} instead.")
    if not isinstance(relative, (bool, np.bool_)):
        raise ValueError(f"The 'relative' parameter must be True or False. Got {relative!r} instead.")


def _rank_param(cv_results, param):
    """The ``param_<name>`` key of the rank parameter, found or checked."""
    names = [key[len("param_") :] for key in cv_results if key.startswith("param_")]
    if param is not None:
        if not isinstance(param, str):
            raise ValueError(f"The 'param' parameter must be a str or None. Got {param!r} instead.")
        if param not in names:
            raise ValueError(
                f"param={param!r} is not a searched parameter; cv_results has {sorted(names)}."
            )
        return "param_" + param
    found = [name for name in names if name == _RANK_NAME or name.endswith("__" + _RANK_NAME)]
    if len(found) != 1:
        what = "no" if not found else f"several ({sorted(found)})"
        raise ValueError(
            f"Cannot tell which parameter is the rank: {what} searched parameter is named "
            f"'{_RANK_NAME}' or ends with '__{_RANK_NAME}' (searched: {sorted(names)}). "
            "Name it with param=..."
        )
    return "param_" + found[0]


def _as_rank(value):
    """A candidate's rank as a float; anything that is not a number counts as infinite.

    ``None`` (no truncation, or all of PCA's components), a string such as PCA's
    ``"mle"``, or a candidate of a list-of-grids search that does not set the
    parameter (a masked entry) have no known rank: they are only picked when no
    candidate with a numeric rank is within the tolerance.
    """
    if value is np.ma.masked or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return math.inf
    return float(value)


def select_smallest_rank(cv_results, *, tol=0.01, relative=False, param=None, scoring="score"):
    """Index of the smallest rank whose mean test score is within ``tol`` of the best.

    The rule behind :func:`smallest_rank_refit`; call it directly on a finished
    search's ``cv_results_``.

    Parameters
    ----------
    cv_results : dict of str to ndarray
        The ``cv_results_`` of a ``GridSearchCV`` or ``RandomizedSearchCV``.
    tol : float, default=0.01
        How far below the best mean test score a candidate may be. Absolute
        (in the units of the score, e.g. 0.01 is one point of accuracy) unless
        ``relative`` is True.
    relative : bool, default=False
        If True, ``tol`` is a fraction of the best score's magnitude: the
        threshold is ``best - tol * abs(best)``. Use it for scores without a
        natural scale, such as a negative mean squared error.
    param : str or None, default=None
        Name of the rank parameter as the search names it, e.g.
        ``"n_components"`` or ``"rrae__n_components"`` in a pipeline. None finds
        the one searched parameter named ``n_components`` or ending with
        ``__n_components``, and raises a ValueError if there is not exactly one.
    scoring : str, default="score"
        Which score to compare: the key ``"mean_test_" + scoring`` of
        ``cv_results``. The default fits a search with a single score; with
        several, give the name of one.

    Returns
    -------
    index : int
        Index of the chosen candidate in ``cv_results``.

    Raises
    ------
    ValueError
        If ``tol`` or ``relative`` are invalid, the rank parameter or the score
        cannot be found, or every mean test score is NaN.

    See Also
    --------
    smallest_rank_refit : This rule as a ``refit`` callable for a search.

    Notes
    -----
    Candidates with a NaN mean test score (a fit that failed with
    ``error_score=np.nan``) are ignored. A rank that is not a number (None,
    ``"mle"``, or unset in some grids of a list) counts as larger than every
    number. Among candidates of the same smallest rank, the one with the best
    score wins, and among equal scores the first.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_rrae.model_selection import select_smallest_rank
    >>> cv_results = {
    ...     "param_n_components": np.ma.masked_array([2, 4, 8, 16]),
    ...     "mean_test_score": np.array([0.80, 0.93, 0.95, 0.94]),
    ... }
    >>> int(select_smallest_rank(cv_results, tol=0.03))
    1
    >>> int(select_smallest_rank(cv_results, tol=0.0))
    2
    """
    _check_tol(tol, relative)
    if not isinstance(cv_results, dict):
        raise ValueError(
            f"cv_results must be the cv_results_ dict of a search. Got {type(cv_results).__name__}."
        )
    if not isinstance(scoring, str):
        raise ValueError(f"The 'scoring' parameter must be a str. Got {scoring!r} instead.")
    score_key = "mean_test_" + scoring
    if score_key not in cv_results:
        available = sorted(key[len("mean_test_") :] for key in cv_results if key.startswith("mean_test_"))
        raise ValueError(
            f"cv_results has no {score_key!r}; the scores it has are {available}. Give one with scoring=..."
        )
    scores = np.asarray(cv_results[score_key], dtype=np.float64)
    ranks = np.array([_as_rank(v) for v in cv_results[_rank_param(cv_results, param)]])
    if ranks.shape != scores.shape:
        raise ValueError(
            f"cv_results holds {len(ranks)} rank values for {len(scores)} scores: it is not a search's "
            "cv_results_."
        )
    valid = ~np.isnan(scores)
    if not valid.any():
        raise ValueError(f"Every {score_key} is NaN: all fits failed, so there is no rank to choose.")
    best = scores[valid].max()
    threshold = best - tol * abs(best) if relative else best - tol
    eligible = np.flatnonzero(valid & (scores >= threshold))
    smallest = ranks[eligible].min()
    tied = eligible[ranks[eligible] == smallest]
    return int(tied[np.argmax(scores[tied])])


def smallest_rank_refit(tol=0.01, *, relative=False, param=None, scoring="score"):
    """A ``refit`` callable for ``GridSearchCV`` that prefers the smallest good rank.

    ``GridSearchCV(..., refit=smallest_rank_refit(tol))`` refits the candidate
    with the smallest rank (``n_components``) whose mean test score is within
    ``tol`` of the best one, instead of the best one. With a callable
    ``refit``, the search sets ``best_index_``, ``best_params_`` and
    ``best_estimator_`` but not ``best_score_``: read the chosen score as
    ``cv_results_["mean_test_score"][best_index_]``.

    Parameters
    ----------
    tol : float, default=0.01
        How far below the best mean test score the chosen candidate may be.
        Absolute, in the units of the score, unless ``relative`` is True.
    relative : bool, default=False
        If True, ``tol`` is a fraction of the magnitude of the best score.
    param : str or None, default=None
        Name of the rank parameter in the search (``"n_components"``,
        ``"rrae__n_components"``, ...). None finds the one searched parameter
        named ``n_components`` or ending with ``__n_components``.
    scoring : str, default="score"
        Name of the score to compare when the search has several (the
        ``scoring`` dict's key); the default suits a single score.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> int``, the index of the chosen candidate (see
        :func:`select_smallest_rank`). Picklable, so the search can be too.

    Raises
    ------
    ValueError
        At once if ``tol`` or ``relative`` are invalid; when the search calls
        it, if the rank parameter or the score cannot be found.

    See Also
    --------
    select_smallest_rank : The rule itself, for a finished search's results.
    sklearn.model_selection.GridSearchCV : Exhaustive search over a grid.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_rrae.model_selection import smallest_rank_refit
    >>> X, y = load_digits(return_X_y=True)
    >>> pipe = make_pipeline(PCA(), StandardScaler(), LogisticRegression())
    >>> search = GridSearchCV(
    ...     pipe, {"pca__n_components": [5, 10, 20]}, cv=3, refit=smallest_rank_refit(0.02)
    ... ).fit(X, y)
    >>> ranks = search.cv_results_["param_pca__n_components"]
    >>> scores = search.cv_results_["mean_test_score"]
    >>> chosen = search.best_index_
    >>> bool(scores[chosen] >= scores.max() - 0.02)
    True
    >>> all(scores[i] < scores.max() - 0.02 for i in range(len(ranks)) if ranks[i] < ranks[chosen])
    True
    """
    _check_tol(tol, relative)
    return functools.partial(select_smallest_rank, tol=tol, relative=relative, param=param, scoring=scoring)


def neg_reconstruction_mse(estimator, X, y=None):
    """Minus the mean squared error of ``X`` reconstructed by a fitted transformer.

    A scorer (``scoring=neg_reconstruction_mse``) for
    :class:`~sklearn.model_selection.GridSearchCV`, ``cross_val_score`` and the
    like: ``-mean((X - inverse_transform(transform(X)))**2)``, higher is better.
    It works alike for every estimator with ``transform`` and
    ``inverse_transform`` (PCA, RRAE, a pipeline of such steps), which their
    own ``score`` methods do not: ``PCA.score`` is the average log-likelihood
    of the probabilistic PCA model, while :meth:`RRAETransformer.score
    <sklearn_rrae.RRAETransformer.score>` is minus the reconstruction MSE, so a
    search over both with the default scoring compares incomparable numbers.

    Parameters
    ----------
    estimator : fitted transformer
        Has ``transform`` and ``inverse_transform``.
    X : array-like of shape (n_samples, n_features)
        Data to reconstruct.
    y : Ignored
        Not used, present for the scorer signature.

    Returns
    -------
    score : float
        Minus the mean squared reconstruction error over all entries of ``X``.

    See Also
    --------
    smallest_rank_refit : Refit the smallest rank within a tolerance of the best.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn_rrae import RRAETransformer
    >>> from sklearn_rrae.model_selection import neg_reconstruction_mse
    >>> X, _ = load_digits(return_X_y=True)
    >>> search = GridSearchCV(
    ...     PCA(), {"n_components": [2, 5]}, scoring=neg_reconstruction_mse, cv=3
    ... ).fit(X)
    >>> search.best_params_
    {'n_components': 5}
    >>> rrae = RRAETransformer(n_components=5, max_epochs=2, random_state=0).fit(X)
    >>> bool(np.isclose(neg_reconstruction_mse(rrae, X), rrae.score(X)))
    True
    """
    X = check_array(X, dtype=[np.float64, np.float32])
    X_hat = estimator.inverse_transform(estimator.transform(X))
    return -float(np.mean((X.astype(np.float64) - np.asarray(X_hat, dtype=np.float64)) ** 2))
