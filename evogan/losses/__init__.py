"""Pure loss functions (no Ray, no models)."""

from evogan.losses.adversarial import discriminator_loss, generator_loss, judged_real, probability_real
from evogan.losses.contrastive import info_nce_loss
from evogan.losses.edge import edge_loss, sobel_edges
from evogan.losses.feature_matching import feature_matching_loss
from evogan.losses.perceptual import gram_matrix, perceptual_loss, style_loss
from evogan.losses.vae import kl_divergence, reconstruction_loss

__all__ = ["discriminator_loss", "generator_loss", "probability_real", "judged_real", "edge_loss", "sobel_edges",
           "kl_divergence", "reconstruction_loss", "gram_matrix", "perceptual_loss", "style_loss",
           "feature_matching_loss", "info_nce_loss"]
