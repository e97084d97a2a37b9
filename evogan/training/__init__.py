"""Gradient training of one (G, D) pair: no Ray."""

from evogan.training.hyperparameters import Hyperparameters

__all__ = ["Hyperparameters"]
