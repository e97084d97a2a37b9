"""One dataset layer: every source becomes uint8 tensors (N, C, H, W) at the configured size.

Datasets are small enough for the seeds' settings (limited data, 28-64 px) to live in memory
as uint8, which makes seeded minibatch sampling exact and lets the driver ``ray.put`` the
array once for all actors (zero-copy on a node). ``to_float`` maps a batch to [-1, 1].
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from evogan.config import DataConfig
from evogan.data import sources
from evogan.data.shapes import render_shapes
from evogan.data.sources import DataError

log = logging.getLogger(__name__)


@dataclass
class ImageData:
    train: torch.Tensor
    """uint8 (N, C, H, W): the images GANs train on (after ``limit``)."""
    train_labels: torch.Tensor | None
    """int64 (N,) class or mode labels when the dataset has them."""
    holdout: torch.Tensor
    """uint8 (M, C, H, W): real images never trained on, for discriminator accuracy."""
    skipped: int
    """Corrupt files skipped while reading."""
    key: str
    """Stable hash of what was loaded (cache key for real statistics and extractors)."""

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.shape[1:])


def _shapes(cfg: DataConfig, root: Path) -> sources.Loaded:
    images, labels = render_shapes(cfg.num_samples, cfg.resolution, cfg.channels, seed=12345)
    return images, labels, 0


def _mnist(name: str) -> Callable[[DataConfig, Path], sources.Loaded]:
    return lambda cfg, root: sources.read_mnist_like(root, cfg.split, name)


DATASETS: dict[str, Callable[[DataConfig, Path], sources.Loaded]] = {
    "shapes": _shapes,
    "mnist": _mnist("MNIST"),
    "fashion_mnist": _mnist("FashionMNIST"),
    "cifar10": lambda cfg, root: sources.read_cifar10(root, cfg.split),
    "celeba": lambda cfg, root: sources.read_celeba(root, cfg.split, _read_budget(cfg)),
    "image_folder": lambda cfg, root: sources.read_image_folder(root, cfg.resolution, _read_budget(cfg)),
}


def _read_budget(cfg: DataConfig) -> int:
    return cfg.limit + cfg.holdout if cfg.limit else 0


def conform(images: torch.Tensor, resolution: int, channels: int) -> torch.Tensor:
    """Resize (antialiased bilinear) and convert channels of uint8 images, in chunks."""
    out = []
    for chunk in images.split(4096):
        x = chunk.float()
        if x.shape[1] != channels:
            if channels == 1:
                weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
                x = (x * weights).sum(1, keepdim=True)
            else:
                x = x.expand(-1, 3, -1, -1)
        if x.shape[-1] != resolution or x.shape[-2] != resolution:
            x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", antialias=True,
                              align_corners=False)
        out.append(x.round().clamp(0, 255).to(torch.uint8))
    return torch.cat(out)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float().div(127.5).sub(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255] (the quantisation FID protocols apply to samples)."""
    return images.detach().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)


def dataset_key(cfg: DataConfig) -> str:
    """Hash of everything that determines the loaded images."""
    fields = {k: getattr(cfg, k) for k in ("name", "resolution", "channels", "limit", "split",
                                            "num_samples", "holdout")}
    fields["root"] = str(Path(cfg.root).expanduser().resolve()) if cfg.root else ""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def load_data(cfg: DataConfig, seed: int = 0) -> ImageData:
    """Read, conform and split a dataset; raises DataError naming the path on bad data.

    The split is a seeded permutation: the first ``holdout`` images are held out, the next
    ``limit`` (or all the rest) are the training pool.
    """
    root = Path(cfg.root).expanduser() if cfg.root else Path(".")
    if cfg.name != "shapes":
        if not root.exists():
            raise DataError(f"{root}: dataset root does not exist (data.root)")
        if not root.is_dir():
            raise DataError(f"{root}: dataset root is not a directory (data.root)")
    try:
        images, labels, skipped = DATASETS[cfg.name](cfg, root)
    except OSError as err:  # e.g. a folder or file below data.root we may not read
        where = err.filename or root
        raise DataError(f"{where}: unreadable ({err.strerror or err.__class__.__name__}; data.root)") from None
    if skipped:
        log.warning("%s: skipped %d unreadable image files", root, skipped)
    need = cfg.holdout + 16
    if len(images) < need:
        raise DataError(f"{root if cfg.name != 'shapes' else 'shapes'}: only {len(images)} images, "
                        f"need at least {need} (data.holdout={cfg.holdout} + 16 to train on)")
    images = conform(images, cfg.resolution, cfg.channels)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    holdout_idx, train_idx = order[:cfg.holdout], order[cfg.holdout:]
    if cfg.limit:
        train_idx = train_idx[:cfg.limit]
    train_idx, _ = train_idx.sort()
    return ImageData(
        train=images[train_idx].contiguous(),
        train_labels=labels[train_idx] if labels is not None else None,
        holdout=images[holdout_idx].contiguous(),
        skipped=skipped,
        key=f"{cfg.name}-{dataset_key(cfg)}-s{seed}",
    )


__all__ = ["DATASETS", "DataError", "ImageData", "load_data", "to_float", "to_uint8", "conform", "dataset_key"]
