"""scikit-learn's own API checks, with no expected failures."""

import pytest
from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_global_set_output_transform_polars,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_set_output_transform_polars,
    parametrize_with_checks,
)

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer

from .conftest import FAST

ESTIMATORS = [
    RRAETransformer(n_components=2, **FAST),
    RRAETransformer(n_components=None, **FAST),
    AdaptiveRRAETransformer(**FAST),
    RRAETransformer(n_components=2, n_init=2, **FAST),
    RRAETransformer(n_components=2, nested=True, **FAST),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


SET_OUTPUT_CHECKS = [
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_global_output_transform_pandas,
    check_set_output_transform_polars,
    check_global_set_output_transform_polars,
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=["k=2", "k=None", "adaptive", "n_init=2", "nested"])
@pytest.mark.parametrize("check", SET_OUTPUT_CHECKS, ids=lambda c: c.__name__)
def test_set_output(estimator, check):
    pytest.importorskip("pandas")
    if "polars" in check.__name__:
        pytest.importorskip("polars")
    check(type(estimator).__name__, estimator)
