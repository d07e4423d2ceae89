"""What a data-parallel step costs (issue 22): the distributed truncation against the local one.

Usage: python benchmarks/data_parallel.py [--repeats 201] [--rows 256] [--latent 128] [--rank 10]

Starts two gloo processes on this machine (one torch thread each, one per core)
and times in each, interleaved, medians of ``--repeats``:

- the truncation alone, forward and backward, of one process's batch latent
  (``--rows`` x ``--latent``, rank ``--rank``): ``rank_truncate`` of the local
  batch, against ``global_rank_truncate``, which truncates the global batch of
  both processes (two ``all_reduce`` calls: the L x L Gram matrix forward, a
  k x L matrix backward);
- a whole training step of the default network (784-256-256-128 MLP, Adam,
  MSE) on the local batch: one process alone; with the gradients averaged (one
  ``all_reduce`` of the 0.9 M weights' gradients) but each shard truncated on
  its own (plain DDP, which would change the model with the number of
  processes); and the data-parallel step of the package (global truncation and
  averaged gradients). The second against the third is the cost of the exact,
  global truncation.

Prints rank 0's table; the ratios are the cost of the data-parallel step per
process over the local one at the same per-process batch.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine  # noqa: E402

from sklearn_rrae._distributed import AverageGradients, global_rank_truncate  # noqa: E402
from sklearn_rrae._module import RRAEModule  # noqa: E402
from sklearn_rrae._networks import make_mlp  # noqa: E402
from sklearn_rrae._truncation import rank_truncate  # noqa: E402


def _step(module, optimizer, X, average):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(module(X), X)
    loss.backward()
    if average is not None:
        average.on_grad_computed(None, module.named_parameters())
    optimizer.step()


def _worker(rank, init_file, args, out):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    g = torch.Generator().manual_seed(rank)
    Y = torch.randn(args.rows, args.latent, generator=g, requires_grad=True)
    grad = torch.randn(args.rows, args.latent, generator=g)
    X = torch.rand(args.rows, 784, generator=g)

    def module(truncation):
        torch.manual_seed(0)
        m = RRAEModule(
            make_mlp(784, (256, 256), args.latent, "silu"),
            make_mlp(args.latent, (256, 256), 784, "silu"),
            args.latent,
            args.rank,
            torch.ones(784),
            truncation=truncation,
        )
        return m, torch.optim.Adam(m.parameters(), lr=1e-4)

    local_net, global_net = module(rank_truncate), module(global_rank_truncate)
    runs = {
        "truncation, local": lambda: rank_truncate(Y, args.rank).backward(grad),
        "truncation, global": lambda: global_rank_truncate(Y, args.rank).backward(grad),
        "step, local": lambda: _step(*local_net, X, None),
        "step, averaged gradients": lambda: _step(*local_net, X, AverageGradients()),
        "step, data-parallel": lambda: _step(*global_net, X, AverageGradients()),
    }
    times = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():
            dist.barrier()  # both processes start each measurement together
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    if rank == 0:
        with open(out, "w") as f:
            for name in runs:
                f.write(f"{name}\t{statistics.median(times[name]) * 1e3:.3f}\n")
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=201)
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--latent", type=int, default=128)
    parser.add_argument("--rank", type=int, default=10)
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    out = os.path.join(folder, "times.tsv")
    torch.multiprocessing.spawn(_worker, args=(os.path.join(folder, "rendezvous"), args, out), nprocs=2)
    ms = dict(line.split("\t") for line in open(out).read().splitlines())
    ms = {k: float(v) for k, v in ms.items()}
    print(
        f"# {machine().split(' (')[0]}; 2 gloo processes with 1 torch thread each; per-process batch "
        f"{args.rows} x {args.latent}, k = {args.rank}; medians of {args.repeats}"
    )
    print("| what: first / second | first (ms) | second (ms) | second / first |")
    print("|---|---|---|---|")
    for what, local, distributed in (
        ("truncation, forward + backward: local / global", "truncation, local", "truncation, global"),
        ("training step: one process / data-parallel", "step, local", "step, data-parallel"),
        (
            "training step: gradients averaged, shard / global truncation",
            "step, averaged gradients",
            "step, data-parallel",
        ),
        (
            "training step: one process / gradients averaged (plain DDP)",
            "step, local",
            "step, averaged gradients",
        ),
    ):
        print(f"| {what} | {ms[local]:.3f} | {ms[distributed]:.3f} | {ms[distributed] / ms[local]:.2f} |")


if __name__ == "__main__":
    main()
