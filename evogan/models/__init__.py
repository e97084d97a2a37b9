"""GAN variants, selected by ``model.variant`` through a registry."""

from evogan.models.base import GANVariant
from evogan.models.registry import VARIANTS, build_variant, register_variant, variant_options
from evogan.models import dcgan  # noqa: F401  (registers dcgan)
from evogan.models import cft, mspg_sen, vaegan  # noqa: F401  (register cft_mr_edge, mspg_sen, vaegan_attn)

__all__ = ["GANVariant", "VARIANTS", "build_variant", "register_variant", "variant_options"]
