"""One-call GPU check: CUDA against CPU fit on MNIST-60k, and a CUDA pickle read without CUDA.

Usage: python benchmarks/gpu_check.py [--n-train 60000] [--out DIR]

1. Fits ``RRAETransformer(n_components=10, random_state=0)`` (defaults otherwise)
   on the 60,000 MNIST training images with ``device="cuda"`` and with
   ``device="cpu"``, and reports fit time, the speed-up, transform throughput and
   the held-out MSE of each (a tiny CUDA fit first, so that CUDA's one-off start
   is not billed to the timed fit).
2. Pickles the CUDA model, loads it in a fresh Python process where
   ``CUDA_VISIBLE_DEVICES=""`` hides the GPU, transforms the test images there and
   checks that the codes agree with the CUDA model's own.

Reads ``mnist.npz`` from ``$SKLEARN_RRAE_DATA`` (default ``../shared/data``).
"""

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import machine, mnist, mse

from sklearn_rrae import RRAETransformer

CHILD = """
import pickle, sys
import numpy as np, torch
assert not torch.cuda.is_available(), "CUDA should be hidden in this process"
with open(sys.argv[1], "rb") as f:
    model = pickle.load(f)
X = np.load(sys.argv[2])
np.save(sys.argv[3], model.transform(X))
print("loaded on", model.module_.basis.device, "- transformed", X.shape)
"""


def fit_and_measure(device, X_train, X_test):
    model = RRAETransformer(n_components=10, random_state=0, device=device)
    start = time.perf_counter()
    model.fit(X_train)
    if device == "cuda":
        torch.cuda.synchronize()
    fit_seconds = time.perf_counter() - start
    model.transform(X_test)  # warm-up
    start = time.perf_counter()
    codes = model.transform(X_test)
    transform_rows_per_s = len(X_test) / (time.perf_counter() - start)
    test_mse = mse(X_test, model.inverse_transform(codes))
    return model, codes, fit_seconds, transform_rows_per_s, test_mse


def codes_agree_without_cuda(cuda_model, X_test, cuda_codes):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with open(tmp / "model.pkl", "wb") as f:
            pickle.dump(cuda_model, f)
        np.save(tmp / "X.npy", X_test)
        env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(tmp / "model.pkl"), str(tmp / "X.npy"), str(tmp / "codes.npy")],
            env=env,
            capture_output=True,
            text=True,
        )
        print(f"\nCPU-only process: {child.stdout.strip()} {child.stderr.strip()[-2000:]}")
        if child.returncode != 0:
            sys.exit("the CUDA pickle did not load without CUDA")
        cpu_codes = np.load(tmp / "codes.npy")
    scale = np.abs(cuda_codes).max()
    difference = np.abs(cpu_codes - cuda_codes).max() / scale
    agree = difference < 1e-3
    print(
        f"codes from the CUDA model in a CPU-only process vs on the GPU: max |difference| / max |code| "
        f"= {difference:.2e} -> {'agree' if agree else 'DISAGREE'}"
    )
    return agree


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=60000)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("gpu_check.py needs a CUDA device")
    print(f"machine: {machine()}; GPU: {torch.cuda.get_device_name(0)}\n", flush=True)
    X_train, X_test = mnist(n_train=args.n_train)
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    RRAETransformer(n_components=2, max_epochs=1, device="cuda").fit(X_train[:512])

    results = {}
    for device in ("cuda", "cpu"):
        results[device] = fit_and_measure(device, X_train, X_test)
        _, _, seconds, throughput, test_mse = results[device]
        print(
            f"{device}: fit {seconds:.1f} s, transform {throughput:,.0f} rows/s, MSE {test_mse:.5f}",
            flush=True,
        )

    cuda_model, cuda_codes = results["cuda"][:2]
    print(
        "\n| device | fit (s) | epochs | transform (rows/s) | held-out MSE |\n|---|---|---|---|---|\n"
        + "\n".join(
            f"| {d} | {r[2]:.1f} | {r[0].n_iter_} | {r[3]:,.0f} | {r[4]:.5f} |" for d, r in results.items()
        )
    )
    print(f"\nspeed-up of the CUDA fit over the CPU fit: {results['cpu'][2] / results['cuda'][2]:.1f}x")

    sys.exit(0 if codes_agree_without_cuda(cuda_model, X_test, cuda_codes) else 1)


if __name__ == "__main__":
    main()
