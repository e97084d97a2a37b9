"""Gradient training of one (G, D) pair: no Ray."""

from evogan.hyperparameters import Hyperparameters

__all__ = ["Hyperparameters"]
