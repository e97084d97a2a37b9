"""Loss-aware D scores: one meaning of real_score / fake_score / d_accuracy under every loss."""

from __future__ import annotations

import pytest
import torch

from evogan.models.evaluation import discriminator_scores

# Outputs a perfect D converges to under each loss (its training targets).
PERFECT = {"bce": (8.0, -8.0), "hinge": (1.0, -1.0), "ls": (1.0, 0.0)}


@pytest.mark.parametrize("loss", sorted(PERFECT))
def test_a_perfect_discriminator_scores_accuracy_one_under_each_loss(loss):
    real_target, fake_target = PERFECT[loss]
    real = torch.full((64,), real_target) + 0.05 * torch.randn(64)
    fake = torch.full((128,), fake_target) + 0.05 * torch.randn(128)
    scores = discriminator_scores(loss, real, fake.clamp(max=0.4) if loss == "ls" else fake)
    assert scores["d_accuracy"] == 1.0
    assert scores["fool_rate"] == 0.0
    assert scores["real_score"] > 0.7 and scores["fake_score"] < 0.3


def test_ls_outputs_are_not_read_as_logits():
    """Under ls, output 1.0 means "real" with certainty; a sigmoid would call it 0.73."""
    scores = discriminator_scores("ls", torch.ones(10), torch.zeros(10))
    assert scores["real_score"] == 1.0 and scores["fake_score"] == 0.0


def test_accuracy_is_balanced_over_unequal_real_and_fake_counts():
    """1,024 real all right, 2,048 fake all wrong: balanced accuracy 0.5, pooled would say 1/3."""
    scores = discriminator_scores("bce", torch.full((1024,), 3.0), torch.full((2048,), 3.0))
    assert scores["d_accuracy"] == 0.5
    assert scores["fool_rate"] == 1.0
