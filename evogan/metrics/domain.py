"""A cheap, dataset-specific feature network for per-generation fitness on CPU.

Lipizzaner (Schmiedlechner et al. 2018) scored MNIST generators with an MNIST classifier instead of
Inception. Here a small CNN is trained once on the dataset's labels, or, when there are none, on
4-way rotation prediction (Gidaris et al. 2018, self-supervised), and its 128-d global-pooled
penultimate activations are the features. Trained weights are cached on disk under a hash of
the dataset description, a fingerprint of the training images, resolution, channels and
``ARCH_VERSION``, so each dataset trains once (seconds on 2 CPU cores).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ARCH_VERSION = 1
"""Bump when DomainNet or its training recipe changes: invalidates cached weights and statistics."""


@dataclass(frozen=True)
class DomainTraining:
    """Training recipe (part of the cache key)."""

    max_images: int = 10000
    """Deterministic subset of the training images used (caps training time)."""
    epochs: int = 2
    batch_size: int = 128
    lr: float = 2e-3
    seed: int = 0


class DomainNet(nn.Module):
    """3x3 convs (BN, ReLU; 2 of stride 2) -> 4x4 average pool -> FC 128 (features) -> ReLU, FC head.

    The 4x4 pool keeps coarse layout (global pooling after so few layers cannot tell a shirt
    from a pullover) and makes the network independent of the input resolution.
    """

    def __init__(self, channels: int, num_classes: int, width: int = 32, feature_dim: int = 128):
        super().__init__()
        widths = (channels, width, 2 * width, 4 * width)
        layers: list[nn.Module] = []
        for cin, cout, stride in zip(widths[:-1], widths[1:], (1, 2, 2)):
            layers += [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        layers += [nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(16 * widths[-1], feature_dim)]
        # Features are the pre-activation FC output: dense (after a ReLU ~1/3 of the dims were dead).
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(feature_dim, num_classes))
        self.feature_dim = feature_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def to_model_input(images: torch.Tensor, channels: int, resolution: int, device: torch.device) -> torch.Tensor:
    """uint8 (n, c, h, w) -> float in [-1, 1] with ``channels`` channels at ``resolution``^2."""
    x = images.to(device, non_blocking=True).to(torch.float32).div_(127.5).sub_(1.0)
    if x.shape[1] != channels:
        x = x.mean(dim=1, keepdim=True) if channels == 1 else x.expand(-1, channels, -1, -1)
    if x.shape[-2:] != (resolution, resolution):
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False, antialias=True)
    return x.contiguous(memory_format=torch.channels_last)  # ~1.3x faster convs on CPU (oneDNN)


def rotation_batch(x: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate each image by k * 90 degrees, k uniform in {0..3}; labels are k (Gidaris et al. 2018).

    Images come back grouped by k (order is irrelevant to a minibatch loss).
    """
    k = torch.randint(0, 4, (x.shape[0],), generator=gen).to(x.device)
    groups = [torch.rot90(x[k == quarter], quarter, dims=(2, 3)) for quarter in range(4)]
    labels = torch.cat([torch.full((g.shape[0],), q, dtype=torch.long, device=x.device) for q, g in enumerate(groups)])
    return torch.cat(groups).contiguous(memory_format=torch.channels_last), labels


@torch.inference_mode(False)
@torch.enable_grad()
def train_domain_net(images: torch.Tensor, labels: torch.Tensor | None, resolution: int,
                     recipe: DomainTraining = DomainTraining(), device: str | torch.device = "cpu") -> DomainNet:
    """Train a :class:`DomainNet` on labels (cross-entropy) or, if ``labels`` is None, on rotations.

    Gradients are switched on here, so a caller under ``torch.inference_mode`` (fitness evaluation
    builds the extractor lazily) still trains it.
    """
    device = torch.device(device)
    gen = torch.Generator().manual_seed(recipe.seed)
    subset = training_subset(images.shape[0], recipe)
    channels = images.shape[1]
    num_classes = 4 if labels is None else int(labels.max()) + 1
    with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's global RNG
        torch.manual_seed(recipe.seed)
        net = DomainNet(channels, num_classes).to(device, memory_format=torch.channels_last).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=recipe.lr)
    for _ in range(recipe.epochs):
        order = subset[torch.randperm(subset.numel(), generator=gen)]
        for start in range(0, order.numel(), recipe.batch_size):
            idx = order[start:start + recipe.batch_size]
            x = to_model_input(images[idx], channels, resolution, device)
            if labels is None:
                x, y = rotation_batch(x, gen)
            else:
                y = labels[idx].to(device)
            loss = F.cross_entropy(net(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return net.eval().requires_grad_(False)


def training_subset(n: int, recipe: DomainTraining) -> torch.Tensor:
    """The deterministic indices (at most ``recipe.max_images``) the network is trained on."""
    gen = torch.Generator().manual_seed(recipe.seed + 1)
    return torch.randperm(n, generator=gen)[:recipe.max_images]


def fingerprint(images: torch.Tensor, labels: torch.Tensor | None = None) -> str:
    """sha1 of the image (and label) bytes: guards caches against a stale dataset description."""
    digest = hashlib.sha1(images.contiguous().cpu().numpy().tobytes())
    if labels is not None:
        digest.update(labels.contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


class DomainExtractor:
    """uint8 images -> 128-d float32 features of a small CNN trained on the dataset itself."""

    name = "domain"

    def __init__(self, net: DomainNet, channels: int, resolution: int, cache_id: str,
                 device: str | torch.device = "cpu", batch_size: int = 512):
        self.device = torch.device(device)
        self.net = net.to(self.device, memory_format=torch.channels_last).eval()
        self.channels, self.resolution = channels, resolution
        self.dim = net.feature_dim
        self.cache_id = cache_id
        self.batch_size = batch_size
        self.has_logits = False
        self.train_seconds = 0.0  # time spent training in this process; 0 when loaded from the cache

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate features of uint8 (n, c, h, w) images (resized / channel-matched as needed)."""
        out = []
        with torch.inference_mode():
            for start in range(0, images.shape[0], self.batch_size):
                x = to_model_input(images[start:start + self.batch_size], self.channels, self.resolution, self.device)
                out.append(self.net.body(x).float().cpu())
        return torch.cat(out) if out else torch.empty(0, self.dim)

    def class_probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """(n, classes) softmax of the network's head: the dataset's classes when it was trained
        on labels (mode coverage, :mod:`evogan.metrics.modes`), else the 4 rotations."""
        out = []
        with torch.inference_mode():
            for start in range(0, images.shape[0], self.batch_size):
                x = to_model_input(images[start:start + self.batch_size], self.channels, self.resolution, self.device)
                out.append(torch.softmax(self.net(x).float(), dim=1).cpu())
        return torch.cat(out)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        from evogan.metrics.inception_score import MetricUnavailable

        raise MetricUnavailable("the Inception Score needs the inception extractor")

    @classmethod
    def fit_or_load(cls, images: torch.Tensor, labels: torch.Tensor | None, dataset_key: str,
                    cache_dir: str | os.PathLike, device: str | torch.device = "cpu",
                    recipe: DomainTraining = DomainTraining()) -> "DomainExtractor":
        """Load the cached network for this dataset, or train it and cache it (atomic write)."""
        resolution, channels = images.shape[-1], images.shape[1]
        subset = training_subset(images.shape[0], recipe)
        data = fingerprint(images[subset], None if labels is None else labels[subset])
        key_fields = {"dataset": dataset_key, "n": images.shape[0], "data": data, "resolution": resolution,
                      "channels": channels, "arch": ARCH_VERSION, "task": "rotation" if labels is None else "labels",
                      "recipe": asdict(recipe)}
        key = hashlib.sha1(json.dumps(key_fields, sort_keys=True).encode()).hexdigest()[:16]
        path = Path(cache_dir).expanduser() / "domain" / f"domain-v{ARCH_VERSION}-{key}.pt"
        started = time.perf_counter()
        if path.is_file():
            saved = torch.load(path, map_location="cpu", weights_only=True)
            net = DomainNet(saved["channels"], saved["num_classes"])
            net.load_state_dict(saved["state_dict"])
            return cls(net, channels, resolution, f"domain-v{ARCH_VERSION}-{key}", device)
        net = train_domain_net(images, labels, resolution, recipe, device)
        _atomic_torch_save({"state_dict": {k: v.cpu() for k, v in net.state_dict().items()},
                            "channels": channels, "num_classes": net.head[-1].out_features}, path)
        extractor = cls(net, channels, resolution, f"domain-v{ARCH_VERSION}-{key}", device)
        extractor.train_seconds = time.perf_counter() - started
        return extractor


def _atomic_torch_save(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
