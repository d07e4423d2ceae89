"""Issue 18's listed directions for nested prefixes, measured in the package.

Usage: python -W ignore benchmarks/studies/nested_directions.py [--seeds 0 1]

The digits (70/30, the core benchmark's split), K = 16, defaults otherwise.
For each seed: a plain model trained at each rank r in (1, 2, 3, 5, 8, 12, 16)
alone, then ``nested=True`` with the rows' ranks drawn as the issue suggests,
each printed as the nested model's first-r-codes held-out MSE over the model
trained at r (issue 18's bar: at most 1.05 at every r):

- ``nested=True`` as shipped (one row in three at 1..K-1 in turn, the rest at K);
- nested dropout's geometric distribution (Rippel et al. 2014), on every row or
  beside a share of rows at K;
- a fixed Matryoshka set of ranks (Kusupati et al. 2022), equal rows each or
  the top weighted three times;
- a warm-up at the top rank (plain training for the first epochs, then nested).

The rank patterns replace ``sklearn_rrae._truncation.nested_ranks`` for one fit
(a private name: a study, not an API).
"""

import argparse
import sys
import time
from pathlib import Path

import torch
from skorch.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import digits, machine, mse  # noqa: E402

import sklearn_rrae._truncation as truncation  # noqa: E402
from sklearn_rrae import RRAETransformer  # noqa: E402

RANKS = [1, 2, 3, 5, 8, 12, 16]
SHIPPED = truncation.nested_ranks


def geometric(rho, share_at_top):
    """Each row's rank 1 + Geometric(rho), capped at K; a share of rows at K."""

    def ranks(n_rows, k, device=None):
        r = torch.distributions.Geometric(probs=torch.tensor(rho)).sample((n_rows,)).long() + 1
        r = r.clamp(max=k)
        top = torch.rand(n_rows) < share_at_top
        return torch.where(top, torch.full_like(r, k), r).to(device)

    return ranks


def fixed_set(ranks_in_turn):
    def ranks(n_rows, k, device=None):
        pattern = torch.tensor([min(r, k) for r in ranks_in_turn])
        return pattern[torch.arange(n_rows) % len(pattern)].to(device)

    return ranks


class WarmUp(Callback):
    """Plain training at the top rank for the first ``epochs`` epochs, nested after."""

    def __init__(self, epochs):
        self.epochs = epochs

    def on_train_begin(self, net, **kwargs):
        self.nested_ = net.module_.truncation  # this fit's own net (the callback serves every seed)

    def on_epoch_begin(self, net, **kwargs):
        plain = len(net.history) <= self.epochs
        net.module_.truncation = truncation.rank_truncate if plain else self.nested_


VARIANTS = [
    ("shipped: 1 row in 3 below K", SHIPPED, {}),
    ("geometric rho = 0.15, every row", geometric(0.15, 0.0), {}),
    ("geometric rho = 0.15, 2/3 at K", geometric(0.15, 2 / 3), {}),
    ("geometric rho = 0.3, 1/2 at K", geometric(0.3, 0.5), {}),
    ("set {1, 2, 4, 8, 16}, equal rows", fixed_set([1, 2, 4, 8, 16]), {}),
    ("set {1, 2, 4, 8, 16}, K 3 x", fixed_set([1, 2, 4, 8, 16, 16, 16]), {}),
    ("warm-up: 50 epochs at K", SHIPPED, {"callbacks": [("warm_up", WarmUp(50))]}),
    ("warm-up: 100 epochs at K", SHIPPED, {"callbacks": [("warm_up", WarmUp(100))]}),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    X_train, X_test = digits()
    print(f"Machine: {machine()}\n")
    print("| seed | variant | " + " | ".join(f"r = {r}" for r in RANKS) + " | worst | fit (s) | epochs |")
    print("|---" * (len(RANKS) + 6) + "|")
    for seed in args.seeds:
        alone = []
        for r in RANKS:
            model = RRAETransformer(n_components=r, random_state=seed).fit(X_train)
            alone.append(mse(X_test, model.inverse_transform(model.transform(X_test))))
        for name, ranks, extra in VARIANTS:
            truncation.nested_ranks = ranks
            try:
                start = time.perf_counter()
                model = RRAETransformer(n_components=16, nested=True, random_state=seed, **extra).fit(X_train)
                seconds = time.perf_counter() - start
            finally:
                truncation.nested_ranks = SHIPPED
            codes = model.transform(X_test)
            ratios = [
                mse(X_test, model.inverse_transform(codes[:, :r])) / a
                for r, a in zip(RANKS, alone, strict=True)
            ]
            cells = " | ".join(f"{x:.3f}" for x in ratios)
            row = f"| {seed} | {name} | {cells} | {max(ratios):.3f} | {seconds:.1f} | {model.n_iter_} |"
            print(row, flush=True)


if __name__ == "__main__":
    main()
