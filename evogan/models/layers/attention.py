"""Multi-head self-attention over the positions of a feature map (seed 000, Section 4.1).

Seed 000 embeds "multi-head attention (8 heads, query/key/value dimension 64)" in G and D
without further detail. We use the SAGAN layout (Zhang et al. 2019): 1x1 convs project the
C-channel map to per-head queries, keys and values of ``head_dim`` each, scaled dot-product
attention runs over the H*W positions, a 1x1 conv projects the concatenated heads back to C
channels, and the result is added to the input through a learnable gate gamma that starts at 0
(the block starts as the identity, as in SAGAN). Cost is O((H*W)^2) per head, so callers place
it at a low resolution (16x16 by default in :mod:`evogan.models.vaegan`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention2d(nn.Module):
    """x + gamma * W_o [softmax(Q K^T / sqrt(d)) V] over H*W positions, ``heads`` heads of ``head_dim``."""

    def __init__(self, channels: int, heads: int = 8, head_dim: int = 64):
        super().__init__()
        if heads < 1 or head_dim < 1:
            raise ValueError("heads and head_dim must be >= 1")
        self.heads, self.head_dim = heads, head_dim
        inner = heads * head_dim
        self.qkv = nn.Conv2d(channels, 3 * inner, 1, bias=False)
        self.out = nn.Conv2d(inner, channels, 1, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        qkv = self.qkv(x).reshape(n, 3, self.heads, self.head_dim, h * w)
        # (3, n, heads, h*w, head_dim), contiguous: lets PyTorch pick its fused (flash) kernels.
        q, k, v = qkv.permute(1, 0, 2, 4, 3).contiguous().unbind(dim=0)
        attended = F.scaled_dot_product_attention(q, k, v)
        attended = attended.transpose(-1, -2).reshape(n, self.heads * self.head_dim, h, w)
        return x + self.gamma * self.out(attended)
