"""Training-step time of the built-in CNN pair: memory layout and channel choices.

Usage: python benchmarks/studies/cnn_layout.py [--threads 2] [--repeats 7]
       [--channels "32,64" "16,64,128" "16,32,64/16,64,128"]

One optimizer step (forward, MSE loss, backward, Adam) of
``ConvEncoder``/``ConvDecoder`` on a batch of 256 random 28 x 28 images, latent
128, for each channel tuple ("ENCODER/DECODER" for two different ones; the
decoder's are given in the encoder's order, as ``decoder__channels``), with the
feature maps in the default (NCHW) layout and in channels-last, the layout the
package uses. Repetitions are interleaved (every configuration once per round);
the table gives the median time per step over the rounds, the implied time per
epoch of 60,000 images (235 steps) and the speed-up of channels-last.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

# Run as `python benchmarks/studies/cnn_layout.py`: put benchmarks/ on the path for _common.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from _common import machine

from sklearn_rrae import ConvDecoder, ConvEncoder

LAYOUTS = {"NCHW": torch.contiguous_format, "channels-last": torch.channels_last}


def in_layout(network_class, layout):
    """``network_class`` with its feature maps and kernels in ``layout``."""
    return type(f"{network_class.__name__}_{layout}", (network_class,), {"memory_format": LAYOUTS[layout]})


def step_seconds(channels, layout, n_steps=5):
    torch.manual_seed(0)
    encoder_channels, decoder_channels = channels
    encoder = in_layout(ConvEncoder, layout)(784, 128, (28, 28), encoder_channels)
    decoder = in_layout(ConvDecoder, layout)(128, 784, (28, 28), decoder_channels)
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()])
    X = torch.rand(256, 784)

    def step():
        optimizer.zero_grad()
        loss = ((decoder(encoder(X)) - X) ** 2).mean()
        loss.backward()
        optimizer.step()

    step()  # warm-up: oneDNN picks its kernels on the first call
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    return (time.perf_counter() - start) / n_steps


def parse(spec):
    """ "16,64,128" -> the same tuple for both networks; "A/B" -> encoder A, decoder B."""
    encoder, _, decoder = spec.partition("/")
    channels = [tuple(int(c) for c in side.split(",")) for side in (encoder, decoder or encoder)]
    return tuple(channels)


def label(channels):
    encoder, decoder = channels
    return str(encoder) if encoder == decoder else f"{encoder} / {decoder}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--channels", nargs="+", default=["32,64", "16,64,128", "16,32,64/16,64,128"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    configs = [parse(spec) for spec in args.channels]
    times = {(c, layout): [] for c in configs for layout in LAYOUTS}
    for _ in range(args.repeats):
        for key in times:
            times[key].append(step_seconds(*key))
    print(f"machine: {machine()}\n")
    print(
        "| channels (encoder / decoder) | NCHW (ms/step) | channels-last (ms/step) "
        "| channels-last s/epoch (60k) | speed-up |"
    )
    print("|---|---|---|---|---|")
    for c in configs:
        nchw, last = (statistics.median(times[c, layout]) for layout in LAYOUTS)
        print(f"| {label(c)} | {1e3 * nchw:.1f} | {1e3 * last:.1f} | {235 * last:.1f} | {nchw / last:.2f} |")


if __name__ == "__main__":
    main()
