"""Building blocks shared by the seed variants: attention, DEMA, GCTDRN, frozen feature nets."""

from evogan.models.layers.attention import SelfAttention2d
from evogan.models.layers.dema import DEMA
from evogan.models.layers.gctdrn import GCTDRNBlock

__all__ = ["SelfAttention2d", "DEMA", "GCTDRNBlock"]
