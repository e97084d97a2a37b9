"""GCTDRN block: globally connected two-flow dynamic residual block (seed 004, Section III-B).

F_final = alpha * sum_i W_i * Branch_i(X) + beta * DEMA(X) + gamma * Global(GAP(X)) + Shortcut(X)

combining Eq. 15 (learnable alpha, beta; attention flow) and Eq. 16 (branch fusion weights W_i
from attention):

* Branch_k, k in 3/5/7: depthwise k x k conv -> pointwise 1x1 conv -> BatchNorm -> LeakyReLU.
  Depthwise-separable is our choice: three full 7x7/5x5/3x3 convs cost 83 C^2 weights, which at
  the generator's 4x4 stage (C = 4 * width) would dwarf the rest of the model.
* W_i = softmax(learnable logits + MLP(GAP(X))), per sample: learnable *and* attention-computed,
  the two readings of Eqs. 15-16. The MLP's last layer starts at zero (equal weights).
* The attention flow is :class:`~evogan.models.layers.dema.DEMA` (``dema=False`` leaves it out:
  the DEMA ablation of seed 004; beta then multiplies nothing).
* The "global feature enhancement branch" (GAP -> MLP, broadcast over positions) is in every
  block, scaled by a learnable gamma.
* Shortcut(X) is the identity (blocks keep the channel count).
* alpha starts at 1, beta and gamma at 0.1, so a fresh block is dominated by the shortcut and
  local branches and the attention/global flows grow in as training needs them.
"""

from __future__ import annotations

import torch
from torch import nn

from evogan.models.layers.dema import DEMA, _mlp

BRANCH_KERNELS = (3, 5, 7)


def separable_branch(channels: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels, channels, kernel, padding=kernel // 2, groups=channels, bias=False),
                         nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels),
                         nn.LeakyReLU(0.2, True))


class GCTDRNBlock(nn.Module):
    """Multi-scale (3/5/7) branches fused by learnable + attention weights, DEMA flow, GAP branch, shortcut."""

    def __init__(self, channels: int, heads: int = 4, context: int = 4, reduction: int = 4, dema: bool = True):
        super().__init__()
        hidden = max(4, channels // reduction)
        self.branches = nn.ModuleList(separable_branch(channels, k) for k in BRANCH_KERNELS)
        self.branch_logits = nn.Parameter(torch.zeros(len(BRANCH_KERNELS)))
        self.branch_attention = _mlp(channels, hidden, len(BRANCH_KERNELS))
        self.attention = DEMA(channels, heads, context, reduction) if dema else None  # None: DEMA ablated
        self.global_branch = _mlp(channels, hidden, channels)
        self.alpha = nn.Parameter(torch.tensor(1.0))
        self.beta = nn.Parameter(torch.tensor(0.1))
        self.gamma = nn.Parameter(torch.tensor(0.1))
        self.reset_fusion()

    def reset_fusion(self) -> None:
        """Zero the branch-attention MLP's last layer, so W_i start equal (1/3 each)."""
        nn.init.zeros_(self.branch_attention[-1].weight)
        nn.init.zeros_(self.branch_attention[-1].bias)

    def forward(self, x: torch.Tensor, pairs: list | None = None) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3))
        weights = (self.branch_logits + self.branch_attention(pooled)).softmax(dim=1)  # (n, 3)
        local = sum(weights[:, i, None, None, None] * branch(x) for i, branch in enumerate(self.branches))
        global_features = self.global_branch(pooled)[:, :, None, None]
        out = x + self.alpha * local + self.gamma * global_features
        return out if self.attention is None else out + self.beta * self.attention(x, pairs)
