"""Feature-extractor registry: ``build_extractor("domain" | "inception", ...)``.

Every extractor maps uint8 images (n, c, h, w) in [0, 255] to float32 features (n, dim) on CPU and
has ``name``, ``dim``, ``cache_id`` (identifies weights for the statistics cache), ``has_logits``
and ``logits(features)`` (Inception Score input, where the network has class logits).
"""

from __future__ import annotations

import os
from typing import Protocol

import torch

from evogan.metrics.domain import DomainExtractor, DomainTraining
from evogan.metrics.inception import InceptionExtractor, inception_weights_path

EXTRACTORS = ("domain", "inception")


class FeatureExtractor(Protocol):
    name: str
    dim: int
    cache_id: str
    has_logits: bool

    def features(self, images: torch.Tensor) -> torch.Tensor: ...

    def logits(self, features: torch.Tensor) -> torch.Tensor: ...


def build_extractor(name: str, *, device: str | torch.device = "cpu", cache_dir: str | os.PathLike = "~/.cache/evogan",
                    inception_weights: str = "", real_images: torch.Tensor | None = None,
                    real_labels: torch.Tensor | None = None, dataset_key: str = "",
                    domain_recipe: DomainTraining = DomainTraining(), batch_size: int = 64) -> FeatureExtractor:
    """Build a feature extractor by name.

    inception: the FID Inception TorchScript (see :func:`inception_weights_path`).
    domain: a small CNN trained on ``real_images`` (labels, else rotations), cached per dataset.
    """
    if name == "inception":
        path = inception_weights_path(inception_weights, cache_dir)
        return InceptionExtractor(path, device=device, batch_size=batch_size)
    if name == "domain":
        if real_images is None:
            raise ValueError("the domain extractor is trained on the real images: pass real_images")
        return DomainExtractor.fit_or_load(real_images, real_labels, dataset_key, cache_dir, device, domain_recipe)
    raise ValueError(f"unknown feature extractor {name!r} (known: {', '.join(EXTRACTORS)})")
