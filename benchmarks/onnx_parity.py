"""Saving and ONNX export (issue 20): exactness of save/load, onnxruntime's agreement and speed.

Usage: python benchmarks/onnx_parity.py [--repeats 5] [--threads 2]

For each model (digits 70/30 and MNIST with 20,000 training images; the MLP
and the CNN; ``n_components`` 5 on digits, 10 on MNIST; ``random_state=0``):

- ``sklearn_rrae.save`` then ``load`` through a file: its size, the time of
  each, and whether ``transform``, ``inverse_transform``, ``score`` and
  ``sample(random_state=0)`` of the loaded model equal the original's bit for bit;
- ``sklearn_rrae.to_onnx`` of both methods, run by onnxruntime (CPU provider)
  on the held-out rows as float32: the largest difference from the
  estimator's output over its largest entry (the issue's bar: 1e-5), and the
  largest elementwise relative difference over entries at least 1e-3 of the
  largest; then the rows per second of ``transform`` and of the ONNX graph on
  the same rows (medians of ``--repeats`` interleaved runs).

The digits models use the defaults; the MNIST ones the defaults but
``max_epochs=5`` (the agreement depends on the arithmetic, not on how long the
weights trained; the CNN's default 20 epochs take about 2.5 min here).
"""

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import onnxruntime
import torch
from _common import DATA, digits, machine, mnist

import sklearn_rrae
from sklearn_rrae import RRAETransformer


def _session(path, threads):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda X: session.run(None, {name: X})[0]


def _agreement(result, expected):
    """(relative error in norm, largest difference / largest entry, largest elementwise relative
    difference over the entries at least 1e-3 of the largest)."""
    result, expected = result.astype(np.float64), expected.astype(np.float64)
    scale = np.abs(expected).max()
    big = np.abs(expected) >= 1e-3 * scale
    relative = np.abs(result - expected)[big] / np.abs(expected)[big]
    norm = np.linalg.norm(result - expected) / np.linalg.norm(expected)
    return float(norm), float(np.abs(result - expected).max() / scale), float(relative.max())


def _rows_per_second(runs, X, repeats):
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():  # interleaved
            start = time.perf_counter()
            run(X)
            times[name].append(time.perf_counter() - start)
    return {name: len(X) / statistics.median(t) for name, t in times.items()}


def _exact_round_trip(model, path, X):
    start = time.perf_counter()
    sklearn_rrae.save(model, path)
    save_s = time.perf_counter() - start
    start = time.perf_counter()
    loaded = sklearn_rrae.load(path)
    load_s = time.perf_counter() - start
    codes = model.transform(X)
    exact = (
        np.array_equal(loaded.transform(X), codes)
        and np.array_equal(loaded.inverse_transform(codes), model.inverse_transform(codes))
        and loaded.score(X) == model.score(X)
        and np.array_equal(loaded.sample(100, random_state=0), model.sample(100, random_state=0))
    )
    return os.path.getsize(path) / 1e6, save_s, load_s, exact


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# {machine()}, onnxruntime {onnxruntime.__version__} ({args.threads} threads)")
    cases = [("digits", "mlp", 5, {}), ("digits", "cnn", 5, dict(architecture="cnn", input_shape=(8, 8)))]
    if (DATA / "mnist.npz").exists():
        cases += [
            ("mnist-20k", "mlp", 10, dict(max_epochs=5)),
            ("mnist-20k", "cnn", 10, dict(max_epochs=5, architecture="cnn", input_shape=(28, 28))),
        ]
    print(
        "| data | model | file (MB) | save (s) | load (s) | bit-exact | method | relative error | "
        "max diff / max | max rel. diff (>= 1e-3 max) | <= 1e-5 | estimator rows/s | onnxruntime rows/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    folder = tempfile.mkdtemp()
    for data, architecture, k, extra in cases:
        X_train, X_test = digits()[:2] if data == "digits" else mnist(20000)
        model = RRAETransformer(n_components=k, random_state=0, **extra).fit(X_train)
        X = X_test.astype(np.float32)
        size, save_s, load_s, exact = _exact_round_trip(model, os.path.join(folder, "m.rrae"), X)
        codes = model.transform(X)
        for method, inputs, expected, estimator_run in (
            ("transform", X, codes, model.transform),
            ("inverse_transform", codes, model.inverse_transform(codes), model.inverse_transform),
        ):
            path = os.path.join(folder, f"{method}.onnx")
            sklearn_rrae.to_onnx(model, path, method=method)
            run = _session(path, args.threads)
            norm, scaled, relative = _agreement(run(inputs), expected)
            speed = _rows_per_second({"estimator": estimator_run, "onnx": run}, inputs, args.repeats)
            print(
                f"| {data} | {architecture} | {size:.1f} | {save_s:.2f} | {load_s:.2f} | "
                f"{'yes' if exact else 'NO'} | {method} | {norm:.1e} | {scaled:.1e} | {relative:.1e} | "
                f"{'yes' if max(norm, scaled) <= 1e-5 else 'NO'} | "
                f"{speed['estimator']:,.0f} | {speed['onnx']:,.0f} |"
            )


if __name__ == "__main__":
    main()
