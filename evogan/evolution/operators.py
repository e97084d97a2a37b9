"""Vectorised genetic operators with DEAP's signatures and an explicit numpy Generator.

``mate(ind1, ind2, rng) -> (ind1, ind2)`` and ``mutate(ind, rng) -> (ind,)`` modify their
arguments in place and return them, as DEAP's operators do, but act on whole layers of a flat
float32 :class:`~evogan.evolution.genome.Genome` with numpy instead of looping per gene.
"""

from __future__ import annotations

import math

import numpy as np

from evogan.evolution.genome import Genome
from evogan.hyperparameters import Hyperparameters


def _layers(genome: Genome, chosen: np.ndarray):
    """Slices (views) of the chosen layers."""
    offsets = genome.layout.offsets
    return [slice(offsets[i], offsets[i + 1]) for i in np.flatnonzero(chosen)]


def cx_layerwise(ind1: Genome, ind2: Genome, rng: np.random.Generator) -> tuple[Genome, Genome]:
    """Uniform crossover over whole layers: each tensor is swapped with probability 1/2."""
    for part in _layers(ind1, rng.random(ind1.layout.num_layers) < 0.5):
        held = ind1[part].copy()
        ind1[part] = ind2[part]
        ind2[part] = held
    return ind1, ind2


def cx_blend(ind1: Genome, ind2: Genome, rng: np.random.Generator) -> tuple[Genome, Genome]:
    """Per-layer convex blend: child1 = a*x1 + (1-a)*x2, child2 = (1-a)*x1 + a*x2, a ~ U(0, 1)."""
    alphas = rng.random(ind1.layout.num_layers).astype(np.float32)
    for alpha, part in zip(alphas, _layers(ind1, np.ones(ind1.layout.num_layers, dtype=bool))):
        x1, x2 = ind1[part], ind2[part]
        diff = x1 - x2                      # child1 = x2 + a*(x1-x2), child2 = x1 - a*(x1-x2)
        x1 -= (1 - alpha) * diff
        x2 += (1 - alpha) * diff
    return ind1, ind2


def layer_std(genome: Genome) -> np.ndarray:
    """Standard deviation of each layer's values (numpy's pairwise float32 summation)."""
    offsets = genome.layout.offsets
    return np.array([float(np.asarray(genome[offsets[i]:offsets[i + 1]]).std())
                     for i in range(genome.layout.num_layers)])


def mut_gaussian_layer_scaled(individual: Genome, rng: np.random.Generator, sigma: float,
                              floor: float = 0.0) -> tuple[Genome]:
    """x += sigma * max(std(layer), floor) * N(0, 1) on trainable layers; buffers stay untouched.

    The floor lets scalars and constant-initialised tensors (std 0: attention gates, fusion
    weights, BatchNorm biases) mutate too.
    """
    if sigma <= 0:
        return (individual,)
    for part in _layers(individual, individual.layout.mutable):
        values = individual[part]
        scale = sigma * max(float(np.asarray(values).std()), floor)
        noise = rng.standard_normal(values.size, dtype=np.float32)
        noise *= scale
        values += noise
    return (individual,)


def perturb_learning_rate(lr: float, rng: np.random.Generator, tau: float, bounds: tuple[float, float]) -> float:
    """Log-normal step lr * exp(tau * N(0, 1)), clipped to ``bounds``."""
    return float(min(max(lr * math.exp(tau * rng.standard_normal()), bounds[0]), bounds[1]))


def mutate_hyperparameters(hp: Hyperparameters, rng: np.random.Generator, side: str, tau: float,
                           bounds: tuple[float, float], loss_prob: float, losses: tuple[str, ...]) -> Hyperparameters:
    """Mutate what one population owns: a G its lr_g; a D its lr_d and, with ``loss_prob``, its loss."""
    if side == "g":
        return hp.replace(lr_g=perturb_learning_rate(hp.lr_g, rng, tau, bounds))
    loss = hp.loss
    others = [name for name in losses if name != hp.loss]
    lr_d = perturb_learning_rate(hp.lr_d, rng, tau, bounds)
    if others and rng.random() < loss_prob:
        loss = others[int(rng.integers(len(others)))]
    return hp.replace(lr_d=lr_d, loss=loss)
