"""Study: how much of the Fréchet distance of sample() is the mixture's own start? MNIST-20k, k = 10.

Usage: python benchmarks/studies/mixture_seeds.py [--seeds 0 1 2] [--mixture-seeds 5]

The protocol of ``benchmarks/generation.py`` (its feature extractor, 10,000 test
images). For RRAE (defaults) and the vanilla autoencoder with a 10-long latent,
each model seed: the default density (``GaussianMixture(10, "full")``) fitted on
the 5,000 training codes ``sample()`` uses, with ``random_state`` 0 to
``--mixture-seeds - 1`` and ``n_init`` 1, 3 and 5 (5: the first three seeds
only); the Fréchet distance of 10,000 decoded draws from each, the mixture's
mean log-likelihood of those codes and its fit time. Then the RRAE / vanilla
ratio of the medians over the mixture seeds.
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--mixture-seeds", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}\n", flush=True)
    X, _, features, test, test_features, _ = study_protocol()
    makers = {
        "RRAE": lambda seed: RRAETransformer(n_components=10, random_state=seed),
        "vanilla": lambda seed: RRAETransformer(n_components=None, latent_dim=10, random_state=seed),
    }
    inits = [(1, args.mixture_seeds), (3, args.mixture_seeds), (5, min(3, args.mixture_seeds))]
    medians = {}
    for seed in args.seeds:
        for name, make in makers.items():
            model = make(seed).fit(X)
            codes = model.transform(X)[summary_rows(N_TRAIN, seed)]
            for n_init, n_states in inits:
                fds, likelihoods, times = [], [], []
                for state in range(n_states):
                    start = time.perf_counter()
                    mixture = GaussianMixture(10, covariance_type="full", random_state=state, n_init=n_init)
                    mixture.fit(codes)
                    times.append(time.perf_counter() - start)
                    draws = mixture.sample(10_000)[0].astype(np.float32)
                    fds.append(
                        frechet_distance(
                            features(np.clip(model.inverse_transform(draws), 0, 1)), test_features
                        )
                    )
                    likelihoods.append(mixture.score(codes))
                medians.setdefault((name, n_init), []).append(np.median(fds))
                print(
                    f"{name} seed {seed} n_init {n_init}: FD {' '.join(f'{v:.2f}' for v in fds)} (median "
                    f"{np.median(fds):.2f}); log-likelihood {' '.join(f'{v:.3f}' for v in likelihoods)}; "
                    f"fit {np.median(times):.2f} s",
                    flush=True,
                )
    print()
    for n_init, _ in inits:
        rrae, vanilla = medians[("RRAE", n_init)], medians[("vanilla", n_init)]
        per_seed = " / ".join(f"{a / b:.3f}" for a, b in zip(rrae, vanilla, strict=True))
        print(
            f"n_init {n_init}: RRAE {' / '.join(f'{v:.2f}' for v in rrae)}, vanilla "
            f"{' / '.join(f'{v:.2f}' for v in vanilla)}, ratio of the medians "
            f"{np.median(rrae) / np.median(vanilla):.3f} (per seed {per_seed})"
        )


if __name__ == "__main__":
    main()
