"""Try settings on the two-Gaussian-bumps problem at k = 2 (issue 5's open target).

Usage:
    python benchmarks/studies/two_bumps_settings.py --seeds 0,2 --params '{"batch_size": 20}'
    python benchmarks/studies/two_bumps_settings.py --seeds 0,2 --anneal 64,0.25,0.3 \
        --params '{"max_epochs": 2000}'
    python benchmarks/studies/two_bumps_settings.py --seeds 0,2 --latent-noise 0.05
    python benchmarks/studies/two_bumps_settings.py --seeds 0,1,2,3,4 --adaptive
    python benchmarks/studies/two_bumps_settings.py --seeds 0,1,2,3,4 --restarts 3

Prints, per seed, the relative error (%) on the training signals, on the test
signals (reconstruction) and by the paper's protocol (interpolated codes), the
fit time and the rank. ``--anneal R0,A,B`` holds rank R0 until fraction A of the
epochs, then lowers it geometrically to k by fraction B (a skorch callback);
``--latent-noise S`` adds ``S * E @ Y_k / sqrt(B)`` (E Gaussian, B x B) to the
truncated batch latent in training, noise that stays in its rank-k row space.
``--restarts N`` fits N models (seeds ``100 * seed + i``) on a random 80 % of the
training signals and keeps the one with the lowest reconstruction error on the
other 20 % (codes of all training signals are still used for interpolation).
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

# Run as `python benchmarks/studies/two_bumps_settings.py`: put benchmarks/ on the path for _common.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
from _common import interpolation_error, reconstruction_error
from skorch.callbacks import Callback

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer, datasets
from sklearn_rrae._truncation import rank_truncate


class RankAnneal(Callback):
    def __init__(self, start_rank, k, begin, end, n_epochs):
        self.start_rank, self.k, self.begin, self.end, self.n_epochs = start_rank, k, begin, end, n_epochs

    def on_epoch_begin(self, net, **kwargs):
        t = ((len(net.history) - 1) / self.n_epochs - self.begin) / (self.end - self.begin)
        t = min(1.0, max(0.0, t))
        rank = round(self.start_rank * (self.k / self.start_rank) ** t)
        net.module_.n_components = max(self.k, rank) if t < 1 else self.k


def noisy_truncation(sigma):
    """The package's truncation plus noise in the truncated latent's row space, in training
    only (skorch computes the validation loss with gradients off)."""

    def truncation(Z, k):
        Y = rank_truncate(Z, k)
        if torch.is_grad_enabled():
            E = torch.randn(Y.shape[0], Y.shape[0], dtype=Y.dtype, device=Y.device)
            Y = Y + sigma * (E @ Y) / math.sqrt(Y.shape[0])
        return Y

    return truncation


def make_model(args, params, k, seed):
    if args.adaptive:
        return AdaptiveRRAETransformer(random_state=seed, **params)
    callbacks = []
    if args.anneal:
        r0, a, b = (float(v) for v in args.anneal.split(","))
        callbacks = [RankAnneal(int(r0), k, a, b, params.get("max_epochs", 1000))]
    estimator = RRAETransformer
    if args.latent_noise:

        class NoisyRRAE(RRAETransformer):
            batch_truncation = staticmethod(noisy_truncation(args.latent_noise))

        estimator = NoisyRRAE
    return estimator(n_components=k, random_state=seed, callbacks=callbacks, **params)


def best_of_restarts(args, params, k, seed, X):
    rng = np.random.RandomState(seed)
    held_out = rng.rand(len(X)) < 0.2
    best, best_error = None, np.inf
    for i in range(args.restarts):
        model = make_model(args, params, k, 100 * seed + i).fit(X[~held_out])
        error = reconstruction_error(model, X[held_out])
        if error < best_error:
            best, best_error = model, error
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--params", default="{}", help="RRAETransformer parameters, JSON")
    parser.add_argument("--anneal", help="R0,A,B")
    parser.add_argument("--latent-noise", type=float)
    parser.add_argument("--adaptive", action="store_true", help="AdaptiveRRAETransformer instead")
    parser.add_argument("--restarts", type=int, default=1, help="keep the best of N on a held-out 20 %%")
    args = parser.parse_args()
    params, k = json.loads(args.params), 2
    X_train, X_test, p_train, p_test = datasets.make_two_gaussians(random_state=0)
    for seed in map(int, args.seeds.split(",")):
        start = time.perf_counter()
        if args.restarts > 1:
            model = best_of_restarts(args, params, k, seed, X_train)
        else:
            model = make_model(args, params, k, seed).fit(X_train)
        seconds = time.perf_counter() - start
        train = 100 * reconstruction_error(model, X_train)
        test = 100 * reconstruction_error(model, X_test)
        interp = 100 * interpolation_error(model, X_train, X_test, p_train, p_test)
        print(
            f"seed={seed}: train {train:.2f} recon {test:.2f} interp {interp:.2f} "
            f"({seconds:.1f} s, {model.n_iter_} epochs, k={model.n_components_})",
            flush=True,
        )


if __name__ == "__main__":
    main()
