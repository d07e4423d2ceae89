"""The density of ``sample()``: fitted on the training codes, drawn from, then decoded.

A deterministic autoencoder becomes a generator once a density is fitted to
its codes (Ghosh et al. 2020, "From Variational to Deterministic
Autoencoders": a 10-component full-covariance Gaussian mixture); the default
here is that mixture.
"""

import copy
import inspect

import numpy as np
from sklearn import config_context
from sklearn.base import clone
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state

# Ghosh et al.'s mixture; fewer components only when there are fewer codes.
_DEFAULT_COMPONENTS = 10


def fit_density(density, codes, seed):
    """A fitted copy of ``density`` (None: the default mixture, seeded by ``seed``) on ``codes``.

    The codes are numpy arrays whatever the caller's ``array_api_dispatch`` (the
    mixture's k-means start refuses it). With the default and fewer than 2 codes
    (a fit on one row), None: there is nothing to fit a density on.
    """
    if density is None and len(codes) < 2:
        return None
    if density is None:
        model = GaussianMixture(
            n_components=min(_DEFAULT_COMPONENTS, len(codes)), covariance_type="full", random_state=seed
        )
    else:
        model = clone(density)
    try:
        with config_context(array_api_dispatch=False):
            return model.fit(codes)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ValueError(
            f"The density of sample() (the 'density' parameter: {type(model).__name__}) could not be "
            f"fitted on the {codes.shape[0]} training codes of {codes.shape[1]} coefficients: {exc}"
        ) from exc


def draw(density, n_samples, random_state):
    """``n_samples`` rows from a fitted density, leaving it as it was.

    ``KernelDensity.sample`` takes the random state as an argument; the mixtures
    read their own ``random_state`` parameter, set here on a copy. A mixture
    returns its samples grouped by component; they are shuffled, so that the
    first rows of a draw are as varied as all of them.
    """
    model = copy.deepcopy(density)
    with config_context(array_api_dispatch=False):
        if "random_state" in inspect.signature(model.sample).parameters:
            drawn = model.sample(n_samples, random_state=random_state)
        else:
            if "random_state" in model.get_params(deep=False):
                model.set_params(random_state=random_state)
            drawn = model.sample(n_samples)
    if isinstance(drawn, tuple):  # (samples, component labels)
        drawn = drawn[0][check_random_state(random_state).permutation(len(drawn[0]))]
    return np.asarray(drawn)
