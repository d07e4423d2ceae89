"""Study: a density that uses the ordering of RRAE's coefficients. MNIST-20k, k = 10.

Usage: python benchmarks/studies/ordered_density.py [--seeds 0 1 2] [--leading 2 3 5] [--components 10 30]

The protocol of ``benchmarks/generation.py`` (its feature extractor, 10,000 test
images, the 5,000 training codes ``sample()`` fits its density on). RRAE's codes
are coefficients ordered by singular value: the leading ones carry most of the
energy (the digit classes), the trailing ones are corrections. The density here,
``LeadingMixture(m, c)``, is a full-covariance Gaussian mixture of ``c``
components on the first ``m`` coefficients only, and for each component a
Gaussian for the other ``k - m`` given the first ``m`` (a linear regression
weighted by the component's responsibilities, and its residual covariance).
With ``m = k`` it is the default mixture.

The vanilla autoencoder's latent has no order, but PCA gives it one: its codes
are rotated onto their principal axes (centred, ordered by variance) before the
density is fitted, and the draws rotated back. So each density is measured on
both models, and the ratio says whether the ordering helps RRAE more than the
rotation helps the vanilla autoencoder. Fréchet distance of 10,000 decoded
draws against the test images' features, per seed, and the RRAE / vanilla
ratio of the medians.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine  # noqa: E402
from generation import N_TRAIN, study_protocol  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402
from sklearn_rrae._data import summary_rows  # noqa: E402
from sklearn_rrae.metrics import frechet_distance  # noqa: E402


class LeadingMixture:
    """A mixture on the first ``n_leading`` columns, Gaussian conditionals for the rest."""

    def __init__(self, n_leading, n_components=10, random_state=0):
        self.n_leading, self.n_components, self.random_state = n_leading, n_components, random_state

    def fit(self, codes):
        m = self.n_leading
        lead, rest = codes[:, :m], codes[:, m:]
        self.mixture_ = GaussianMixture(
            self.n_components, covariance_type="full", random_state=self.random_state
        )
        weights = self.mixture_.fit(lead).predict_proba(lead)
        self.coef_, self.noise_ = None, None
        if rest.shape[1] == 0:  # n_leading = all: the plain mixture
            return self
        design = np.c_[lead, np.ones(len(lead))]
        self.coef_, self.noise_ = [], []
        for w in weights.T:
            # Weighted least squares of the trailing codes on the leading ones (and a bias).
            gram = design.T @ (design * w[:, None]) + 1e-8 * np.eye(design.shape[1])
            coef = np.linalg.solve(gram, design.T @ (rest * w[:, None]))
            residual = rest - design @ coef
            covariance = (residual * w[:, None]).T @ residual / w.sum() + 1e-6 * np.eye(rest.shape[1])
            self.coef_.append(coef)
            self.noise_.append(np.linalg.cholesky(covariance))
        return self

    def sample(self, n, random_state):
        rng = np.random.RandomState(random_state)
        self.mixture_.set_params(random_state=random_state)
        lead, labels = self.mixture_.sample(n)
        if self.coef_ is None:
            return lead[rng.permutation(n)]
        rest = np.empty((n, len(self.noise_[0])))
        for j, (coef, chol) in enumerate(zip(self.coef_, self.noise_, strict=True)):
            rows = labels == j
            mean = np.c_[lead[rows], np.ones(rows.sum())] @ coef
            rest[rows] = mean + rng.normal(size=mean.shape) @ chol.T
        order = rng.permutation(n)
        return np.c_[lead, rest][order]


def principal_rotation(codes):
    """(mean, axes): the codes' principal axes, ordered by variance (rows of ``axes``)."""
    mean = codes.mean(0)
    _, _, vt = np.linalg.svd(codes - mean, full_matrices=False)
    return mean, vt


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--leading", type=int, nargs="+", default=[2, 3, 5])
    parser.add_argument("--components", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--n-samples", type=int, default=10_000)
    args = parser.parse_args()
    print(f"machine: {machine()}\n", flush=True)
    X, _, features, _, test_features, _ = study_protocol(args.n_samples)
    makers = {
        "RRAE": lambda seed: RRAETransformer(n_components=10, random_state=seed),
        "vanilla": lambda seed: RRAETransformer(n_components=None, latent_dim=10, random_state=seed),
    }
    variants = [(10, c) for c in args.components] + [(m, c) for m in args.leading for c in args.components]
    fds = {}
    for seed in args.seeds:
        for name, make in makers.items():
            model = make(seed).fit(X)
            codes = model.transform(X)[summary_rows(N_TRAIN, seed)].astype(np.float64)
            # RRAE's codes are already ordered; the vanilla latent is ordered by its PCA.
            mean, axes = (np.zeros(codes.shape[1]), np.eye(codes.shape[1]))
            if name == "vanilla":
                mean, axes = principal_rotation(codes)
            ordered = (codes - mean) @ axes.T
            for m, c in variants:
                start = time.perf_counter()
                density = LeadingMixture(m, c, random_state=seed).fit(ordered)
                seconds = time.perf_counter() - start
                draws = (density.sample(args.n_samples, seed) @ axes + mean).astype(np.float32)
                images = np.clip(model.inverse_transform(draws), 0, 1)
                fd = frechet_distance(features(images), test_features)
                fds.setdefault((name, m, c), []).append(fd)
                print(
                    f"{name} seed {seed}, leading {m}, {c} components: FD {fd:.2f} (fit {seconds:.2f} s)",
                    flush=True,
                )
    print("\n| density | RRAE FD, per seed | vanilla FD, per seed | RRAE / vanilla, medians |")
    print("|---|---|---|---|")
    for m, c in variants:
        rrae, vanilla = fds[("RRAE", m, c)], fds[("vanilla", m, c)]
        label = f"mixture of {c} on all 10" if m == 10 else f"mixture of {c} on the first {m}, conditionals"
        print(
            f"| {label} | {' / '.join(f'{v:.2f}' for v in rrae)} | {' / '.join(f'{v:.2f}' for v in vanilla)} "
            f"| {np.median(rrae) / np.median(vanilla):.3f} |"
        )


if __name__ == "__main__":
    main()
