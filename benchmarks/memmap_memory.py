"""Peak memory of fitting from a numpy.memmap: 200,000 rows against 10,000 rows (issue 7).

Usage: nice -n 5 python benchmarks/memmap_memory.py [--rows 200000] [--small-rows 10000]
                                                     [--max-epochs 1] [--dir DIR]

Writes two float32 memmaps of 784 columns (uniform random values; 200,000 rows
are 627 MB) in a temporary folder, then fits each, in its own process under
``/usr/bin/time -v``, with the same settings:
``RRAETransformer(n_components=10, max_epochs=1, random_state=0, device="cpu")``
on ``np.memmap(path, mode="r")``, one torch thread. Reports each process's
"Maximum resident set size" and the difference as a percentage of the large
memmap's size. Target (issue 7): below 25 %. Without batch-by-batch reading, the
fit would hold the whole memmap plus a scaled float32 copy of it (over 200 %).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

N_FEATURES = 784


def write_memmap(path, n_rows, seed=0):
    X = np.memmap(path, dtype=np.float32, mode="w+", shape=(n_rows, N_FEATURES))
    rng = np.random.RandomState(seed)
    for start in range(0, n_rows, 10000):
        stop = min(start + 10000, n_rows)
        X[start:stop] = rng.rand(stop - start, N_FEATURES)
    X.flush()
    del X


def fit_child(path, n_rows, max_epochs):
    """Runs in the measured process."""
    import torch

    from sklearn_rrae import RRAETransformer

    torch.set_num_threads(1)
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(n_rows, N_FEATURES))
    start = time.perf_counter()
    model = RRAETransformer(n_components=10, max_epochs=max_epochs, random_state=0, device="cpu").fit(X)
    print(f"fit {n_rows} rows in {time.perf_counter() - start:.1f} s, final loss {model.loss_curve_[-1]:.4g}")


def measure(path, n_rows, max_epochs):
    command = ["/usr/bin/time", "-v", sys.executable, __file__, "--child", path, str(n_rows), str(max_epochs)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", result.stderr).group(1)
    return peak_kb * 1024, wall, result.stdout.strip()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        fit_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--small-rows", type=int, default=10_000)
    parser.add_argument("--max-epochs", type=int, default=1)
    parser.add_argument("--dir", default=None, help="folder for the memmaps (default: a temporary one)")
    args = parser.parse_args()
    from _common import machine

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        rows = {"small": args.small_rows, "large": args.rows}
        paths = {name: os.path.join(tmp, f"{name}.f32") for name in rows}
        for name, n_rows in rows.items():
            write_memmap(paths[name], n_rows)
        results = {name: measure(paths[name], n_rows, args.max_epochs) for name, n_rows in rows.items()}
    large_bytes = args.rows * N_FEATURES * 4
    print(f"machine: {machine()}")
    print(
        f"settings: RRAETransformer(n_components=10, max_epochs={args.max_epochs}, random_state=0, "
        f"device='cpu'), 1 torch thread, np.memmap mode='r'"
    )
    print("| memmap | size (MB) | peak RSS (MB) | wall | fit |")
    print("|---|---|---|---|---|")
    for name, n_rows in rows.items():
        peak, wall, out = results[name]
        size = n_rows * N_FEATURES * 4 / 1e6
        print(f"| {n_rows} x {N_FEATURES} float32 | {size:.0f} | {peak / 1e6:.0f} | {wall} | {out} |")
    extra = results["large"][0] - results["small"][0]
    print(
        f"peak RSS difference: {extra / 1e6:.0f} MB = {100 * extra / large_bytes:.1f} % of the "
        f"{large_bytes / 1e6:.0f} MB memmap (target < 25 %)"
    )


if __name__ == "__main__":
    main()
