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

Also prints training steps per second and the median time of the truncation's
forward+backward alone (200 calls) on a batch latent of the shape's size. Fit
times are medians over repetitions; ratios are medians of per-repetition ratios.
"""

import argparse
import contextlib
import statistics
import time

import numpy as np
import torch
from _common import machine

import sklearn_rrae._modules as modules
from sklearn_rrae import RRAETransformer
from sklearn_rrae._truncation import rank_truncate, rank_truncate_svd

# name, n, D, batch, latent, k, hidden, epochs
SHAPES = [
    ("MNIST-like", 8192, 784, 256, 128, 10, (256, 256), 3),
    ("paper", 1000, 1200, 20, 2800, 2, (64,), 6),
    ("full batch", 1000, 200, 1000, 64, 1, (128, 128), 150),
]


@contextlib.contextmanager
def naive_truncation():
    """Swap the package's truncation for the naive SVD one inside the module."""
    saved = modules.rank_truncate
    modules.rank_truncate = rank_truncate_svd
    try:
        yield
    finally:
        modules.rank_truncate = saved


def fit_seconds(X, k, params, device, naive=False):
    est = RRAETransformer(n_components=k, device=device, random_state=0, **params)
    context = naive_truncation() if naive else contextlib.nullcontext()
    with context:
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
        "| shape | n x D, batch, latent, k, hidden | plain fit (s) | RRAE fit (s) | RRAE / plain | "
        "naive SVD fit (s) | naive / plain | RRAE steps/s | truncation fwd+bwd (us): ours / naive |"
    )
    print("|---" * 9 + "|")
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
        failure = None
        for repeat in range(args.repeats):
            order = list(variants) if repeat % 2 == 0 else list(variants)[::-1]
            for v in order:
                kk, naive = variants[v]
                seconds, error = fit_seconds(X, kk, params, args.device, naive)
                times[v].append(seconds)
                failure = failure or error
        med = {v: statistics.median(t) for v, t in times.items()}
        ratio = {
            v: statistics.median(a / b for a, b in zip(t, times["plain"], strict=True))
            for v, t in times.items()
        }
        steps = epochs * -(-n // batch)
        ours_us = truncation_microseconds(batch, latent, k, args.device, rank_truncate)
        naive_us = truncation_microseconds(batch, latent, k, args.device, rank_truncate_svd)
        naive_cells = f"{med['naive']:.2f} | {ratio['naive']:.3f}" if "naive" in med else "- | -"
        print(
            f"| {name} | {n} x {D}, {batch}, {latent}, {k}, {hidden} | {med['plain']:.2f} | "
            f"{med['rrae']:.2f} | **{ratio['rrae']:.3f}** | {naive_cells} | "
            f"{steps / med['rrae']:.0f} | {ours_us:.0f} / {naive_us:.0f} |",
            flush=True,
        )
        if failure:
            print(f"  (naive SVD: {failure})")
        if args.show_ratios:
            per_repeat = (a / b for a, b in zip(times["rrae"], times["plain"], strict=True))
            print("  per-repetition RRAE / plain:", " ".join(f"{r:.3f}" for r in per_repeat))
    if args.device.startswith("cuda"):
        print_eigh_table(args.device)


if __name__ == "__main__":
    main()
