"""Mode coverage: how many of a labelled dataset's classes (``shapes``: its 8 drawn modes) a
generator's samples fall into.

The classifier is the domain extractor's own network (:mod:`evogan.metrics.domain`), which on a
labelled dataset is trained on the labels; its softmax assigns each image to a mode. An image
counts only when the classifier is confident (probability >= ``MIN_CONFIDENCE``), so blurry or
broken samples land in an "unsure" bin instead of inflating coverage; a mode is covered when
at least ``MIN_SHARE`` of the samples are confidently assigned to it. Apply the same function to
held-out real images to see what the classifier makes of real data (all modes, ~1/8 each).
"""

from __future__ import annotations

from typing import Sequence

import torch

MIN_SHARE = 0.01
"""A mode is covered when at least this fraction of the samples is confidently assigned to it."""
MIN_CONFIDENCE = 0.9
"""An image is assigned to its argmax mode only when the softmax probability reaches this."""


def mode_counts(probabilities: torch.Tensor, confidence: float = MIN_CONFIDENCE) -> list[int]:
    """Counts per class of the images whose top class probability is >= ``confidence``, then
    the count of the rest ("unsure"); ``probabilities`` is (n, classes)."""
    top, label = probabilities.max(dim=1)
    classes = probabilities.shape[1]
    sure = torch.bincount(label[top >= confidence], minlength=classes)
    return [int(c) for c in sure.tolist()] + [int((top < confidence).sum())]


def modes_covered(counts: Sequence[int], share: float = MIN_SHARE) -> int:
    """Modes holding at least ``share`` of all images (``counts`` as :func:`mode_counts`: the
    last entry, the unsure images, counts in the total but is no mode)."""
    total = sum(counts)
    return sum(1 for c in counts[:-1] if total and c / total >= share)


def mode_shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [c / total if total else 0.0 for c in counts]
