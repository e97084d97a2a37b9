"""Local-global contrastive loss of DEMA (MSPG-SEN, seed 004 Eq. 7).

L_LGCL = sum_i -log( exp(sim(F_i, P_i)/tau) / sum_j exp(sim(F_i, P_j)/tau) ).

The seed names neither the positives nor the similarity. We read "LGCL" as a local-global
contrastive loss in the sense of Deep InfoMax / CMC: the anchor F_i is sample i's descriptor
from DEMA's focus (local) module, its positive P_i the same sample's descriptor from the
expansion (global-context) module, and the negatives P_j (j != i) the other samples' global
descriptors in the batch. ``sim`` is cosine similarity. The loss is averaged (not summed) over
anchors so its weight does not depend on the batch size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce_loss(anchors: torch.Tensor, positives: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """InfoNCE over a batch: row i of ``anchors`` (n, d) should match row i of ``positives`` (n, d)."""
    if anchors.shape != positives.shape or anchors.dim() != 2:
        raise ValueError(f"expected two (n, d) tensors, got {tuple(anchors.shape)} and {tuple(positives.shape)}")
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    logits = F.normalize(anchors, dim=1) @ F.normalize(positives, dim=1).t() / temperature
    targets = torch.arange(anchors.shape[0], device=anchors.device)
    return F.cross_entropy(logits, targets)
