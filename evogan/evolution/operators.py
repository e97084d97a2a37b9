"""Vectorised genetic operators with DEAP's signatures and an explicit numpy Generator.

``mate(ind1, ind2, rng) -> (ind1, ind2)`` and ``mutate(ind, rng) -> (ind,)`` modify their
arguments in place and return them, as DEAP's operators do, but act on whole layers of a flat
float32 :class:`~evogan.evolution.genome.Genome` with numpy instead of looping per gene.
"""

from __future__ import annotations

import math

import numpy as np

from evogan.evolution.genome import Genome
from evogan.training.hyperparameters import Hyperparameters


def _per_gene(values: np.ndarray, genome: Genome) -> np.ndarray:
    """Broadcast one value per layer to one value per gene."""
    return np.repeat(values, genome.layout.layer_sizes())


def cx_layerwise(ind1: Genome, ind2: Genome, rng: np.random.Generator) -> tuple[Genome, Genome]:
    """Uniform crossover over whole layers: each tensor is swapped with probability 1/2."""
    swap = _per_gene(rng.random(ind1.layout.num_layers) < 0.5, ind1)
    first = np.where(swap, ind2, ind1)
    ind2[:] = np.where(swap, ind1, ind2)
    ind1[:] = first
    return ind1, ind2


def cx_blend(ind1: Genome, ind2: Genome, rng: np.random.Generator) -> tuple[Genome, Genome]:
    """Per-layer convex blend: child1 = a*x1 + (1-a)*x2, child2 = (1-a)*x1 + a*x2, a ~ U(0, 1)."""
    alpha = _per_gene(rng.random(ind1.layout.num_layers).astype(np.float32), ind1)
    first = alpha * ind1 + (1 - alpha) * ind2
    ind2[:] = (1 - alpha) * ind1 + alpha * ind2
    ind1[:] = first
    return ind1, ind2


def layer_std(genome: Genome) -> np.ndarray:
    """Standard deviation of each layer's values (float64 accumulation)."""
    offsets, sizes = genome.layout.offsets[:-1], genome.layout.layer_sizes()
    values = np.asarray(genome, dtype=np.float64)
    mean = np.add.reduceat(values, offsets) / sizes
    centred = values - np.repeat(mean, sizes)
    return np.sqrt(np.add.reduceat(centred * centred, offsets) / sizes)


def mut_gaussian_layer_scaled(individual: Genome, rng: np.random.Generator, sigma: float) -> tuple[Genome]:
    """x += sigma * std(layer) * N(0, 1) on trainable layers; buffers stay untouched."""
    if sigma <= 0:
        return (individual,)
    scale = np.where(individual.layout.mutable, sigma * layer_std(individual), 0.0).astype(np.float32)
    noise = rng.standard_normal(individual.size, dtype=np.float32)
    individual += noise * _per_gene(scale, individual)
    return (individual,)


def mutate_hyperparameters(hp: Hyperparameters, rng: np.random.Generator, tau: float,
                           loss_prob: float, losses: tuple[str, ...]) -> Hyperparameters:
    """Log-normal learning rates (lr *= exp(tau * N(0, 1))) and, with ``loss_prob``, another loss."""
    lr_g = hp.lr_g * math.exp(tau * rng.standard_normal())
    lr_d = hp.lr_d * math.exp(tau * rng.standard_normal())
    loss = hp.loss
    others = [name for name in losses if name != hp.loss]
    if others and rng.random() < loss_prob:
        loss = others[int(rng.integers(len(others)))]
    return hp.replace(lr_g=lr_g, lr_d=lr_d, loss=loss)
