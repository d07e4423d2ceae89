"""What the rank truncation costs: fit time of RRAE(k) over the same autoencoder without it.

Usage: python benchmarks/truncation_overhead.py [--device cpu|cuda] [--repeats 5] [--no-naive]

For each shape, three models with everything else equal are fitted on the same
random data, one after the other in each repetition (in reversed order every other
repetition), and the median over repetitions of the per-repetition fit-time
ratios is reported, so that machine noise hits both sides of a ratio alike:

- "plain": RRAETransformer(n_components=None), no truncation at all;
- "RRAE": RRAETransformer(n_components=k), the package's truncation;
- "naive SVD": the same with the truncation replaced by torch.linalg.svd and its
  stock backward (how the method is usually written; the baseline).

Also prints training steps per second, the median time of the truncation's
forward+backward alone (200 calls) on a batch latent of the shape's size, and (on
the CPU) the time spent inside the truncation's forward and backward during the
RRAE fits themselves: per training step, the part of it in the Gram matrix
eigendecomposition, and its share of the fit (the timers add a few microseconds
per step to the RRAE fits). Unlike a ratio of two fits, that share does not move
when the machine's speed drifts between them; and a call inside a fit is slower
than the same call repeated alone, because the rest of the training step evicts
the truncation's code and data from the caches. Fit times are medians
over repetitions; ratios are medians of per-repetition ratios, with their
interquartile range.
"""

import argparse
import statistics
import time

import numpy as np
import torch
from _common import machine

from sklearn_rrae import RRAETransformer
from sklearn_rrae._truncation import gram_eigh, rank_truncate, rank_truncate_svd

# name, n, D, batch, latent, k, hidden, epochs
SHAPES = [
    ("MNIST-like", 8192, 784, 256, 128, 10, (256, 256), 3),
    ("paper", 1000, 1200, 20, 2800, 2, (64,), 6),
    ("full batch", 1000, 200, 1000, 64, 1, (128, 128), 150),
]


class NaiveTruncationRRAE(RRAETransformer):
    """The same estimator, its batch truncation the naive SVD one (the stock backward)."""

    batch_truncation = staticmethod(rank_truncate_svd)


def timed_truncation(spent):
    """The package's truncation, adding its forward and backward wall time to ``spent[0]``
    and the part of it spent in the Gram matrix eigendecomposition to ``spent[1]`` (the
    final basis also diagonalises a Gram matrix, outside the truncation: not counted).

    The backward is timed between two gradient hooks: on the output (its gradient has
    arrived, the truncation's backward starts) and on the input (it is done).
    """

    def timed_eigh(gram):
        start = time.perf_counter()
        try:
            return gram_eigh(gram)
        finally:
            spent[1] += time.perf_counter() - start

    def truncation(Y, k):
        start = time.perf_counter()
        out = rank_truncate(Y, k, eigh=timed_eigh)
        spent[0] += time.perf_counter() - start
        if out is not Y and Y.requires_grad:
            backward_start = []
            out.register_hook(lambda grad: backward_start.append(time.perf_counter()))

            def backward_done(grad):
                spent[0] += time.perf_counter() - backward_start[0]

            Y.register_hook(backward_done)
        return out

    return truncation


def fit_seconds(X, k, params, device, naive=False, spent=None):
    """Wall time of one fit; on the CPU, ``spent`` gets the parts spent in our truncation."""
    estimator = RRAETransformer
    if naive:
        estimator = NaiveTruncationRRAE
    elif spent is not None and device == "cpu":

        class TimedTruncationRRAE(RRAETransformer):
            batch_truncation = staticmethod(timed_truncation(spent))

        estimator = TimedTruncationRRAE
    est = estimator(n_components=k, device=device, random_state=0, **params)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    try:
        est.fit(X)
    except ValueError as exc:  # the naive backward can diverge
        return float("nan"), str(exc).split(".")[0]
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start, None


def truncation_microseconds(batch, latent, k, device, fn, repeats=200):
    g = torch.Generator().manual_seed(0)
    Y = torch.randn(batch, latent, generator=g).to(device).requires_grad_()
    G = torch.randn(batch, latent, generator=g).to(device)
    times = []
    for i in range(repeats + 10):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        torch.autograd.grad(fn(Y, k), Y, G)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i >= 10:
            times.append(time.perf_counter() - start)
    return 1e6 * statistics.median(times)


def eigh_microseconds(m, device, on_host, repeats=50):
    """Median time of one eigh of an m x m Gram matrix living on ``device``."""
    g = torch.Generator().manual_seed(0)
    A = torch.randn(m, 2 * m, generator=g).to(device)
    gram = A @ A.mT
    times = []
    for i in range(repeats + 5):
        torch.cuda.synchronize()
        start = time.perf_counter()
        if on_host:
            evals, vecs = torch.linalg.eigh(gram.cpu())
            evals.to(device), vecs.to(device)
        else:
            torch.linalg.eigh(gram)
        torch.cuda.synchronize()
        if i >= 5:
            times.append(time.perf_counter() - start)
    return 1e6 * statistics.median(times)


def print_eigh_table(device):
    """Where the small Gram eigendecomposition is cheaper: the device's solver or the host's."""
    print("\n| Gram size m | eigh on the device (us) | copy to host, eigh, copy back (us) |")
    print("|---|---|---|")
    for m in (20, 64, 128, 256, 512, 1024):
        device_us = eigh_microseconds(m, device, on_host=False)
        host_us = eigh_microseconds(m, device, on_host=True)
        print(f"| {m} | {device_us:.0f} | {host_us:.0f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-naive", action="store_true", help="skip the naive SVD baseline")
    parser.add_argument("--show-ratios", action="store_true", help="print every repetition's ratio")
    parser.add_argument(
        "--shapes", nargs="+", default=[s[0] for s in SHAPES], help="names of the shapes to run"
    )
    args = parser.parse_args()
    print(f"machine: {machine()}; device: {args.device}\n")
    print(
        "| shape | n x D, batch, latent, k, hidden | plain fit (s) | RRAE fit (s) | RRAE / plain (IQR) | "
        "naive SVD fit (s) | naive / plain | RRAE steps/s | truncation fwd+bwd (us): ours / naive | "
        "in RRAE fit, per step (us): truncation / its eigh | truncation share of RRAE fit |"
    )
    print("|---" * 11 + "|")
    for name, n, D, batch, latent, k, hidden, epochs in SHAPES:
        if name not in args.shapes:
            continue
        X = np.random.RandomState(0).normal(size=(n, D)).astype(np.float32)
        params = dict(latent_dim=latent, hidden_layer_sizes=hidden, batch_size=batch, max_epochs=epochs)
        variants = {"plain": (None, False), "rrae": (k, False)}
        if not args.no_naive:
            variants["naive"] = (k, True)
        fit_seconds(X, k, {**params, "max_epochs": 1}, args.device)  # warm-up (imports, allocator)
        times = {v: [] for v in variants}
        inside = []  # per RRAE fit: (seconds in the truncation, of which in eigh, fit seconds)
        failure = None
        for repeat in range(args.repeats):
            order = list(variants) if repeat % 2 == 0 else list(variants)[::-1]
            for v in order:
                kk, naive = variants[v]
                spent = [0.0, 0.0]
                seconds, error = fit_seconds(X, kk, params, args.device, naive, spent)
                times[v].append(seconds)
                if v == "rrae":
                    inside.append((*spent, seconds))
                failure = failure or error
        med = {v: statistics.median(t) for v, t in times.items()}
        ratios = {v: [a / b for a, b in zip(t, times["plain"], strict=True)] for v, t in times.items()}
        ratio = {v: statistics.median(r) for v, r in ratios.items()}
        q1, _, q3 = statistics.quantiles(ratios["rrae"], n=4) if args.repeats > 1 else [ratio["rrae"]] * 3
        steps = epochs * -(-n // batch)
        ours_us = truncation_microseconds(batch, latent, k, args.device, rank_truncate)
        naive_us = truncation_microseconds(batch, latent, k, args.device, rank_truncate_svd)
        naive_cells = f"{med['naive']:.2f} | {ratio['naive']:.3f}" if "naive" in med else "- | -"
        if args.device == "cpu":
            per_step = [1e6 * statistics.median(x[i] for x in inside) / steps for i in (0, 1)]
            share = 100 * statistics.median(x[0] / x[2] for x in inside)
            inside_cells = f"{per_step[0]:.0f} / {per_step[1]:.0f} | {share:.1f} %"
        else:
            inside_cells = "- | -"
        print(
            f"| {name} | {n} x {D}, {batch}, {latent}, {k}, {hidden} | {med['plain']:.2f} | "
            f"{med['rrae']:.2f} | **{ratio['rrae']:.3f}** ({q1:.3f}-{q3:.3f}) | {naive_cells} | "
            f"{steps / med['rrae']:.0f} | {ours_us:.0f} / {naive_us:.0f} | {inside_cells} |",
            flush=True,
        )
        if failure:
            print(f"  (naive SVD: {failure})")
        if args.show_ratios:
            print("  per-repetition RRAE / plain:", " ".join(f"{r:.3f}" for r in ratios["rrae"]))
    if args.device.startswith("cuda"):
        print_eigh_table(args.device)


if __name__ == "__main__":
    main()
