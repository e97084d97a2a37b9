"""Pure loss functions (no Ray, no models)."""

from evogan.losses.adversarial import discriminator_loss, generator_loss

__all__ = ["discriminator_loss", "generator_loss"]
