"""Per-individual hyperparameters: what evolution mutates and Tune/PBT sweeps (a leaf module)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping



@dataclass(frozen=True)
class Hyperparameters:
    lr_g: float
    """Generator-side learning rate (G and any generator-side modules)."""
    lr_d: float
    """Discriminator-side learning rate."""
    beta1: float = 0.5
    beta2: float = 0.999
    loss: str = "bce"
    """Adversarial loss: bce, ls or hinge."""
    loss_weights: Mapping[str, float] = field(default_factory=dict)
    """Weights of a variant's extra loss terms; missing names use the variant's defaults."""
    augment: tuple[str, ...] = ()
    """DiffAugment policies applied to every input of D in training (empty: none)."""

    @classmethod
    def from_train(cls, train: Any) -> "Hyperparameters":
        """From a :class:`evogan.config.TrainConfig` (read by attribute: this module is a leaf)."""
        return cls(lr_g=train.lr_g, lr_d=train.lr_d, beta1=train.beta1, beta2=train.beta2,
                   loss=train.loss, loss_weights=dict(train.loss_weights), augment=tuple(train.augment))

    def replace(self, **changes: Any) -> "Hyperparameters":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {"lr_g": self.lr_g, "lr_d": self.lr_d, "beta1": self.beta1, "beta2": self.beta2,
                "loss": self.loss, "loss_weights": dict(self.loss_weights), "augment": list(self.augment)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "Hyperparameters":
        values = dict(values)
        values["loss_weights"] = dict(values.get("loss_weights", {}))
        values["augment"] = tuple(values.get("augment", ()))  # absent in dicts saved before it existed
        return cls(**values)
