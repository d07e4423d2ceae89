"""Training throughput of ``fit`` against a minimal hand-written torch loop (issue 21).

Usage: python benchmarks/throughput.py [--device cpu|cuda] [--repeats 9] [--threads 1]
                                       [--shapes tiny,mnist-like] [--startup 5]

For each shape, ``RRAETransformer`` (defaults but the shape's sizes,
``early_stopping=False`` so that every epoch trains, ``random_state=0``) is fitted
for E and for 2E epochs; its time per training step is the difference divided by
the difference in steps, which cancels what a fit does once (scaling, the PCA
start, the basis, the explained variance, the density). The floor is a loop of
a few lines over a copy of the fit's module as its training starts (the same
layers, the same truncation, the same PCA start), the same optimizer class and
hyperparameters, the
same scaled data as one tensor on the device and the same batches (a random
permutation per epoch, sliced): zero_grad, forward, MSE, backward, step; timed
for E and 2E epochs the same way. A third column times ``fit`` with skorch's own
``NeuralNet`` loop in place of the package's ``TrainingNet`` (what it saves).
Times are the main thread's CPU time on the CPU (see ``clock``), wall time on
CUDA. The six timings of a repetition run in a rotating order; ratios are per
repetition, then the median (and the interquartile range) over repetitions.

Also printed: samples per second (batch size over the step time), the
truncation's forward and backward alone on one batch latent (median of 200
calls) and its share of the hand-written step, and with ``--startup N`` the wall
time of fresh processes: ``import sklearn_rrae``, and the import followed by a
first tiny fit (medians of N).
"""

import argparse
import contextlib
import copy
import statistics
import subprocess
import sys
import time
from unittest import mock

import numpy as np
import torch
from _common import machine
from skorch import NeuralNet
from skorch.callbacks import Callback

from sklearn_rrae import RRAETransformer, _net
from sklearn_rrae._data import batches
from sklearn_rrae._truncation import rank_truncate

# name: (n, D, batch, latent, k, hidden, E)
SHAPES = {
    # Where the framework's per-step work dominates: a step of arithmetic is ~0.2 ms.
    "tiny": (2048, 32, 64, 16, 2, (32,), 16),
    # The defaults' network on MNIST-sized rows.
    "mnist-like": (8192, 784, 256, 128, 10, (256, 256), 2),
}


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def clock(device):
    """On the CPU the CPU time of this thread, which runs torch's ops with one torch thread:
    the work done, not the time another process holds the core (on this shared 2-core
    machine wall-clock ratios moved by +-15 % between runs) nor the spinning of BLAS
    worker threads; wall time on a GPU."""
    return time.perf_counter() if torch.device(device).type == "cuda" else time.thread_time()


def estimator(shape, device, epochs):
    n, D, batch, latent, k, hidden, _ = shape
    return RRAETransformer(
        n_components=k,
        latent_dim=latent,
        hidden_layer_sizes=hidden,
        batch_size=batch,
        max_epochs=epochs,
        early_stopping=False,
        random_state=0,
        device=device,
    )


def time_fit(X, shape, device, epochs, loop=None):
    """Time ``fit``; ``loop="skorch"``: with skorch's own ``NeuralNet`` loop instead of
    the package's ``TrainingNet`` (everything else the same)."""
    model = estimator(shape, device, epochs)
    sync(device)
    with mock.patch.object(_net, "TrainingNet", NeuralNet) if loop == "skorch" else contextlib.nullcontext():
        start = clock(device)
        model.fit(X)
        sync(device)
        return clock(device) - start


class StartOfTraining(Callback):
    """Keep a copy of the module as training begins (the PCA start: the hand loop starts there too)."""

    def on_train_begin(self, net, **kwargs):
        self.module_ = copy.deepcopy(net.module_)


class HandLoop:
    """The floor: the fit's module as it starts, its optimizer and data, in a plain loop.

    Every call starts from the same initial module with a new optimizer, as every
    fit does: the cost of a step depends on the weights (from the PCA start the
    latent has rank k exactly, and its eigendecomposition and backward cost other
    than on a trained model's: a loop that went on training the same copy ran
    145 us a step faster than the fit at the tiny shape).
    """

    def __init__(self, X, shape, device):
        start = StartOfTraining()
        fitted = estimator(shape, device, 1).set_params(callbacks=[start]).fit(X)
        self.start = start.module_
        self.optimizer = (type(fitted.net_.optimizer_), fitted.net_.optimizer_.defaults)
        self.X = torch.as_tensor(fitted._scaling.to_model(X), device=device)
        self.slices = batches(len(X), fitted.batch_size, fitted.n_components_ + 1)
        self.device = device

    def __call__(self, epochs):
        module = copy.deepcopy(self.start).to(self.device)
        optimizer_class, hyper = self.optimizer
        optimizer = optimizer_class(module.parameters(), **hyper)
        generator = torch.Generator(device=self.device).manual_seed(0)
        X = self.X
        module.train()
        sync(self.device)
        start = clock(self.device)
        for _ in range(epochs):
            order = torch.randperm(len(X), generator=generator, device=X.device)
            for s in self.slices:
                Xb = X[order[s]]
                optimizer.zero_grad()
                loss = torch.nn.functional.mse_loss(module(Xb), Xb)
                loss.backward()
                optimizer.step()
        sync(self.device)
        return clock(self.device) - start


def truncation_time(shape, device, calls=200):
    _, _, batch, latent, k, _, _ = shape
    g = torch.Generator(device=device).manual_seed(0)
    Y = torch.randn(batch, latent, generator=g, device=device, requires_grad=True)
    G = torch.randn(batch, latent, generator=g, device=device)
    times = []
    for _ in range(calls):
        sync(device)
        start = clock(device)
        rank_truncate(Y, k).backward(G)
        sync(device)
        times.append(clock(device) - start)
        Y.grad = None
    return statistics.median(times)


def quartiles(values):
    q = np.percentile(values, [25, 50, 75])
    return f"**{q[1]:.3f}** ({q[0]:.3f}-{q[2]:.3f})"


def bench_shape(name, device, repeats):
    shape = SHAPES[name]
    n, D, batch, latent, k, hidden, E = shape
    X = np.random.default_rng(0).standard_normal((n, D))
    steps = E * len(batches(n, batch, k + 1))
    # Warm both paths (first-call costs: the optimizer's lazy imports, kernels, caches).
    hand = HandLoop(X, shape, device)
    hand(1)
    kinds = ("fit", "skorch", "hand")
    runs = {kind: ([], []) for kind in kinds}
    jobs = [(kind, twice) for kind in kinds for twice in (0, 1)]
    for r in range(repeats):
        for j in range(len(jobs)):
            kind, twice = jobs[(j + r) % len(jobs)]
            epochs = E * (1 + twice)
            t = hand(epochs) if kind == "hand" else time_fit(X, shape, device, epochs, loop=kind)
            runs[kind][twice].append(t)
    per_step = {kind: [(b - a) / steps for a, b in zip(*runs[kind], strict=True)] for kind in kinds}

    def ratios(kind):
        return quartiles([f / h for f, h in zip(per_step[kind], per_step["hand"], strict=True)])

    ms = {kind: 1e3 * statistics.median(per_step[kind]) for kind in kinds}
    trunc_ms = 1e3 * truncation_time(shape, device)
    return (
        f"| {name} | {n} x {D}, {batch}, {latent}, {k}, {hidden} | {steps} | {ms['fit']:.3f} | "
        f"{ms['skorch']:.3f} | {ms['hand']:.3f} | {ratios('fit')} | {ratios('skorch')} | "
        f"{batch / ms['fit'] * 1e3:,.0f} | {batch / ms['hand'] * 1e3:,.0f} | "
        f"{trunc_ms:.3f} ({100 * trunc_ms / ms['hand']:.0f} %) |"
    )


def startup(repeats):
    tiny = "import numpy as np; from sklearn_rrae import RRAETransformer; " + (
        "RRAETransformer(n_components=2, latent_dim=8, hidden_layer_sizes=(16,), max_epochs=2, "
        "random_state=0).fit(np.random.default_rng(0).standard_normal((200, 8)))"
    )
    rows = []
    for label, code in (("import sklearn_rrae", "import sklearn_rrae"), ("import + first tiny fit", tiny)):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        rows.append(f"| {label} | {statistics.median(times):.2f} | {min(times):.2f}-{max(times):.2f} |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (CPU)")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--startup", type=int, default=0, help="fresh processes per start-up row")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    timer = "wall time" if torch.device(args.device).type == "cuda" else "thread CPU time"
    print(f"# {machine()}; device {args.device}, {args.threads} torch thread(s), {args.repeats} repetitions")
    print(f"# times: {timer}")
    print(
        "| shape | n x D, batch, latent, k, hidden | steps (E epochs) | fit ms/step | fit, skorch's loop "
        "ms/step | hand loop ms/step | fit / hand (IQR) | skorch's loop / hand (IQR) | fit samples/s | "
        "hand samples/s | truncation fwd+bwd ms (share of hand step) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.shapes.split(","):
        print(bench_shape(name, args.device, args.repeats), flush=True)
    if args.startup:
        print(f"\n| fresh process | median (s) | range of {args.startup} |")
        print("|---|---|---|")
        print("\n".join(startup(args.startup)))


if __name__ == "__main__":
    main()
