"""Scoring generators against discriminators outside of training, loss-aware.

One set of functions serves GA-GAN fitness, mspg_sen's APFL, the DQN balancer and the
standalone trainer, so "real_score", "fake_score" and "d_accuracy" mean the same everywhere:

* real_score = mean P(real | x) on real images, fake_score = mean P(real | G(z)) (the thesis'
  mean D(x) and mean D(G(z)), seed 002 section 4.4), with P mapped from D's raw output by the
  loss D was trained under (:func:`evogan.losses.probability_real`);
* d_accuracy = balanced accuracy = (TPR on real + TNR on fake) / 2, so that unequal real and
  fake counts (thesis: 1,024 real, 2,048 fake) weigh both classes equally;
* fool_rate = the fraction of G's samples that D judges real (1 - TNR).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from evogan.data import to_float, to_uint8
from evogan.losses import discriminator_loss, generator_loss, judged_real, probability_real
from evogan.models.sampling import batch_stat_mode

QualityFn = Callable[[torch.Tensor], float]


def discriminator_scores(loss: str, real_out: torch.Tensor, fake_out: torch.Tensor) -> dict[str, float]:
    """real_score, fake_score, balanced d_accuracy and fool_rate from D's raw outputs."""
    real_out, fake_out = real_out.detach().float(), fake_out.detach().float()
    true_positive = judged_real(loss, real_out).float().mean()
    fooled = judged_real(loss, fake_out).float().mean()
    return {"real_score": probability_real(loss, real_out).mean().item(),
            "fake_score": probability_real(loss, fake_out).mean().item(),
            "d_accuracy": (0.5 * (true_positive + 1.0 - fooled)).item(),
            "fool_rate": fooled.item()}


def batch_d_accuracy(loss: str, real_out: torch.Tensor, fake_out: torch.Tensor) -> float:
    """Balanced accuracy of one training batch (APFL's and the balancer's observation)."""
    return discriminator_scores(loss, real_out, fake_out)["d_accuracy"]


@torch.inference_mode()
def discriminator_outputs(variant, modules: nn.Module, images_uint8: torch.Tensor,
                          batch_size: int = 512) -> torch.Tensor:
    """D's raw outputs on uint8 images, in batches, BatchNorm on batch statistics."""
    device = next(modules.parameters()).device
    outs = []
    with batch_stat_mode(modules):
        for start in range(0, len(images_uint8), batch_size):
            chunk = to_float(images_uint8[start:start + batch_size]).to(device)
            outs.append(variant.discriminate(modules, chunk).float().cpu())
    return torch.cat(outs) if outs else torch.empty(0)


@torch.inference_mode()
def evaluate_pair(member, holdout: torch.Tensor, num_samples: int, gen: torch.Generator,
                  quality_fn: QualityFn) -> tuple[dict[str, float], torch.Tensor]:
    """Score one (G, D) pair (standalone trainer, Tune, balancer): D's loss-aware scores on
    held-out real vs G's samples, both adversarial losses, and FID; returns (scores, uint8 samples).

    A NaN/inf sample or score gives FID NaN, so callers can mark the pair invalid.
    """
    variant, modules, device, loss = member.variant, member.modules, member.device, member.hp.loss
    with batch_stat_mode(modules):
        fake = variant.generate(modules, variant.sample_latent(num_samples, gen, device))
        real_out = variant.discriminate(modules, to_float(holdout).to(device)).float()
        fake_out = variant.discriminate(modules, fake).float()
    scores = discriminator_scores(loss, real_out, fake_out)
    scores["loss_d"] = discriminator_loss(loss, real_out, fake_out).item()
    scores["loss_g"] = generator_loss(loss, fake_out).item()
    finite = bool(torch.isfinite(fake).all()) and all(math.isfinite(v) for v in scores.values())
    images = to_uint8(torch.nan_to_num(fake)).cpu()
    scores["fid"] = quality_fn(images) if finite else math.nan
    return scores, images
