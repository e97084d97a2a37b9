"""GA-GAN fitness (seed 002, section 4.1.3): the discriminator's accuracy and the generated
images' quality, as a dual objective.

The thesis never states its formula. Here an individual (G, D) is scored on
  * quality    = -FID(G's samples, real data) from the shared FID actor, and
  * d_accuracy = accuracy of D on held-out real images (never trained on) vs G's samples,
both maximised; tournament selection uses their weighted sum, NSGA-II the Pareto front.
The thesis' figures real_score = mean D(x), fake_score = mean D(G(z)), loss_g and loss_d
(on the same held-out/eval batch) are recorded alongside. A NaN/inf anywhere makes the
individual invalid with the worst fitness instead of crashing the run.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from evogan.data import to_float, to_uint8
from evogan.losses import discriminator_loss, generator_loss
from evogan.models.sampling import batch_stat_mode

WORST = -1.0e9
"""Fitness given to every objective of an invalid (NaN/inf) individual."""


def objective_values(scores: dict[str, float], objectives: tuple[str, ...]) -> tuple[float, ...]:
    """Map measured scores to maximised objective values."""
    table = {"quality": -scores.get("fid", math.inf), "d_accuracy": scores.get("d_accuracy", math.nan)}
    values = tuple(table[name] for name in objectives)
    return values if all(math.isfinite(v) for v in values) else tuple(WORST for _ in objectives)


@torch.inference_mode()
def evaluate(member, holdout: torch.Tensor, num_samples: int, gen: torch.Generator,
             quality_fn: Callable[[torch.Tensor], float]) -> tuple[dict[str, float], torch.Tensor]:
    """Score one member; returns (scores, its uint8 samples)."""
    variant, modules, device = member.variant, member.modules, member.device
    with batch_stat_mode(modules):
        fake = variant.generate(modules, variant.sample_latent(num_samples, gen, device))
        real = to_float(holdout).to(device)
        real_logits = variant.discriminate(modules, real).float()
        fake_logits = variant.discriminate(modules, fake).float()
    scores = {
        "real_score": torch.sigmoid(real_logits).mean().item(),
        "fake_score": torch.sigmoid(fake_logits).mean().item(),
        "d_accuracy": torch.cat([(real_logits > 0), (fake_logits < 0)]).float().mean().item(),
        "loss_d": discriminator_loss(member.hp.loss, real_logits, fake_logits).item(),
        "loss_g": generator_loss(member.hp.loss, fake_logits).item(),
    }
    finite = bool(torch.isfinite(fake).all()) and all(math.isfinite(v) for v in scores.values())
    images = to_uint8(torch.nan_to_num(fake)).cpu()
    scores["fid"] = quality_fn(images) if finite else math.nan
    return scores, images
