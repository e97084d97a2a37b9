"""Vectorised genetic operators vs DEAP's per-gene stock operators on a real DCGAN genome.

    python benchmarks/operators.py [--width 64] [--resolution 64]

Times Gaussian mutation and crossover on the thesis' 64x64 DCGAN pair (latent 128, width 64,
seven-conv D: 11.3M floats with BatchNorm statistics): DEAP's ``mutGaussian`` / ``cxUniform`` /
``cxBlend`` loop over a Python list gene by gene;
evogan's operators act on whole layers of one float32 array.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
from deap import tools

from evogan.config import ModelConfig
from evogan.evolution import operators
from evogan.evolution.genome import flatten
from evogan.models import build_variant


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    variant = build_variant(ModelConfig(latent_dim=128, width=args.width, options={"extra_layers": 2}),
                            (3, args.resolution, args.resolution))
    a, b = flatten(variant.build()), flatten(variant.build())
    rng = np.random.default_rng(0)
    random.seed(0)
    listed_a, listed_b = a.tolist(), b.tolist()
    rows = [
        ("gaussian mutation", lambda: tools.mutGaussian(list(listed_a), 0.0, 0.01, 1.0),
         lambda: operators.mut_gaussian_layer_scaled(a.copy(), rng, sigma=0.01)),
        ("uniform / layer-wise crossover", lambda: tools.cxUniform(list(listed_a), list(listed_b), 0.5),
         lambda: operators.cx_layerwise(a.copy(), b.copy(), rng)),
        ("blend crossover", lambda: tools.cxBlend(list(listed_a), list(listed_b), 0.5),
         lambda: operators.cx_blend(a.copy(), b.copy(), rng)),
    ]
    print(f"genome: {a.size:,} float32 weights in {a.layout.num_layers} layers")
    print(f"{'operator':32s} {'DEAP per gene':>14s} {'evogan':>10s} {'speed-up':>9s}")
    for name, deap_fn, ours in rows:
        slow, fast = best_of(deap_fn, args.repeat), best_of(ours, args.repeat)
        print(f"{name:32s} {slow:13.3f}s {fast:9.4f}s {slow / fast:8.0f}x")


if __name__ == "__main__":
    main()
