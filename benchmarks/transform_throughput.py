"""transform throughput against the encoder's forward pass alone (issue 7).

Usage: python benchmarks/transform_throughput.py [--rows 10000] [--repeats 7]

Fits ``RRAETransformer(n_components=10, random_state=0, max_epochs=1)`` on
MNIST-sized random rows (784 features; the weights' values do not change the
cost), then times, interleaved, ``transform(X)`` on a float32 array (validation,
scaling, fixed-size blocks, projection on the basis, copy back) and the bare
encoder forward pass ``module.encode(torch.from_numpy(X))`` on the same rows in
one call, under ``torch.no_grad()``. Reports rows per second (medians) and their
ratio.
"""

import argparse
import statistics
import time

import numpy as np
import torch
from _common import machine

from sklearn_rrae import RRAETransformer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    X = np.random.RandomState(0).rand(args.rows, 784).astype(np.float32)
    model = RRAETransformer(n_components=10, random_state=0, max_epochs=1, device="cpu").fit(X[:2048])
    module = model.module_.eval()
    Xt = torch.from_numpy(X)

    def encoder_only():
        with torch.no_grad():
            module.encode(Xt)

    timings = {"transform": [], "encoder forward": []}
    runs = {"transform": lambda: model.transform(X), "encoder forward": encoder_only}
    for run in runs.values():  # warm-up
        run()
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - start)
    rate = {name: args.rows / statistics.median(t) for name, t in timings.items()}
    print(f"machine: {machine()}\n")
    print(f"| {args.rows} rows x 784 | rows per second (median of {args.repeats}) |\n|---|---|")
    for name, r in rate.items():
        print(f"| {name} | {r:,.0f} |")
    print(f"\nencoder forward / transform throughput: {rate['encoder forward'] / rate['transform']:.2f}")


if __name__ == "__main__":
    main()
