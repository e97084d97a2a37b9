"""DEMA: dynamic embedded multi-head attention of MSPG-SEN (seed 004, Section III-A, Eqs. 1-7).

The seed gives the structure but not the layer shapes; what is built here:

* **Focus module** (local, Eqs. 1-2): the channels are split into ``heads`` groups; head h runs a
  depthwise conv with its own window (3, 5, 7, 3, ... px: "each head deals with different scale
  windows") = X_i * W_f^h, then Attention(.) is a channel gate (GAP -> MLP -> sigmoid) and a
  spatial gate (7x7 conv over channel mean/max -> sigmoid), CBAM style, on the concatenated
  heads; W_c is a 1x1 conv. Output F.
* **Expansion module** (global, Eqs. 3-4): implicit global-context embedding C = GlobalEmbed(X)
  is ``context`` tokens, each an attention-pooled (softmax over positions) summary of X; then
  E_i = Attention(X_i, C) is multi-head cross-attention from every position to those tokens.
  Cost is linear in H*W (the seed's "reduced computational load by implicit context embedding").
* **Fusion** (Eqs. 5-6): [alpha, beta] = MLP(X, T), per sample and channel, softmax-normalised
  over the two modules; O = alpha * F + beta * E. The task target T of Eq. 5 is a learned
  constant (the MLP's biases): evogan's GANs are unconditional, so there is one task.
* **Contrastive loss** (Eq. 7): ``forward(x, pairs)`` appends (local, global) descriptors
  (projected GAP of F and of E) to ``pairs``; :func:`evogan.losses.info_nce_loss` then treats the
  same sample's global descriptor as the positive and other samples' as negatives.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

HEAD_KERNELS = (3, 5, 7)


def divisor_heads(channels: int, heads: int) -> int:
    """Largest h <= heads that divides ``channels`` (so every head gets an equal channel slice)."""
    return max(h for h in range(1, max(1, min(heads, channels)) + 1) if channels % h == 0)


def _mlp(c_in: int, hidden: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(c_in, hidden), nn.ReLU(True), nn.Linear(hidden, c_out))


class DEMA(nn.Module):
    """O = alpha * Focus(X) + beta * Expansion(X, GlobalEmbed(X)), with contrastive descriptors."""

    def __init__(self, channels: int, heads: int = 4, context: int = 4, reduction: int = 4):
        super().__init__()
        self.heads = divisor_heads(channels, heads)
        hidden = max(4, channels // reduction)
        per_head = channels // self.heads
        kernels = [HEAD_KERNELS[h % len(HEAD_KERNELS)] for h in range(self.heads)]
        self.windows = nn.ModuleList(nn.Conv2d(per_head, per_head, k, padding=k // 2, groups=per_head)
                                     for k in kernels)
        self.channel_gate = _mlp(channels, hidden, channels)
        self.spatial_gate = nn.Conv2d(2, 1, 7, padding=3)
        self.focus_out = nn.Conv2d(channels, channels, 1)
        self.context_logits = nn.Conv2d(channels, context, 1)
        self.query = nn.Conv2d(channels, channels, 1, bias=False)
        self.key_value = nn.Linear(channels, 2 * channels, bias=False)
        self.expand_out = nn.Conv2d(channels, channels, 1)
        self.fusion = _mlp(channels, hidden, 2 * channels)
        proj = max(4, channels // 2)
        self.project_local, self.project_global = nn.Linear(channels, proj), nn.Linear(channels, proj)

    def focus(self, x: torch.Tensor) -> torch.Tensor:
        """Eqs. 1-2: per-head windows, channel + spatial attention, linear fusion W_c."""
        heads = torch.cat([conv(part) for conv, part in zip(self.windows, x.chunk(self.heads, dim=1))], dim=1)
        heads = heads * torch.sigmoid(self.channel_gate(heads.mean(dim=(2, 3))))[:, :, None, None]
        pooled = torch.cat([heads.mean(dim=1, keepdim=True), heads.amax(dim=1, keepdim=True)], dim=1)
        return self.focus_out(heads * torch.sigmoid(self.spatial_gate(pooled)))

    def expansion(self, x: torch.Tensor) -> torch.Tensor:
        """Eqs. 3-4: context tokens C = softmax-pooled X; E = multi-head attention of X_i over C."""
        n, c, h, w = x.shape
        weights = self.context_logits(x).flatten(2).softmax(dim=-1)  # (n, K, HW)
        tokens = weights @ x.flatten(2).transpose(1, 2)  # (n, K, C)
        keys, values = self.key_value(tokens).chunk(2, dim=-1)
        split = lambda t: t.reshape(n, -1, self.heads, c // self.heads).transpose(1, 2).contiguous()  # noqa: E731
        queries = self.query(x).flatten(2).transpose(1, 2)  # (n, HW, C)
        out = F.scaled_dot_product_attention(split(queries), split(keys), split(values))
        return self.expand_out(out.transpose(1, 2).reshape(n, h * w, c).transpose(1, 2).reshape(n, c, h, w))

    def forward(self, x: torch.Tensor, pairs: list | None = None) -> torch.Tensor:
        local, glob = self.focus(x), self.expansion(x)
        alpha_beta = self.fusion(x.mean(dim=(2, 3))).reshape(x.shape[0], 2, -1).softmax(dim=1)
        out = alpha_beta[:, 0, :, None, None] * local + alpha_beta[:, 1, :, None, None] * glob
        if pairs is not None:
            pairs.append((self.project_local(local.mean(dim=(2, 3))), self.project_global(glob.mean(dim=(2, 3)))))
        return out
