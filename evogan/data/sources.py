"""Readers for on-disk datasets; each returns (uint8 images (N, C, H, W) at native size, labels or None, skipped).

torchvision's dataset classes do the reading wherever their layout is present. The raw IDX
files of MNIST / Fashion-MNIST (as Debian's ``dataset-fashion-mnist`` installs them, ``.gz`` or
not) are also accepted directly in ``root``.
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
IDX_PREFIX = {"train": "train", "test": "t10k"}


class DataError(ValueError):
    """A dataset is missing, empty or unreadable; the message names the path."""


Loaded = tuple[torch.Tensor, "torch.Tensor | None", int]


def _read_idx(path: Path) -> np.ndarray:
    """Parse an IDX (ubyte) file, optionally gzip-compressed."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
        ndim = data[3]
        shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
        array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
        return array.reshape(shape)
    except (OSError, ValueError, IndexError, EOFError) as err:
        raise DataError(f"{path}: unreadable IDX file ({err})") from None


def _find_idx(root: Path, stem: str) -> Path | None:
    for candidate in (root / stem, root / f"{stem}.gz", root / "raw" / stem, root / "raw" / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_mnist_like(root: Path, split: str, torchvision_name: str) -> Loaded:
    """MNIST or Fashion-MNIST from raw IDX files in ``root`` or torchvision's layout."""
    prefix = IDX_PREFIX[split]
    for base in (root, root / torchvision_name):
        images_file = _find_idx(base, f"{prefix}-images-idx3-ubyte")
        labels_file = _find_idx(base, f"{prefix}-labels-idx1-ubyte")
        if images_file and labels_file:
            images = _read_idx(images_file)
            labels = _read_idx(labels_file)
            if images.ndim != 3 or len(images) != len(labels):
                raise DataError(f"{images_file}: unexpected IDX shape {images.shape}")
            return torch.from_numpy(images.copy())[:, None], torch.from_numpy(labels.astype(np.int64)), 0
    raise DataError(f"{root}: no {prefix}-images-idx3-ubyte[.gz] / {prefix}-labels-idx1-ubyte[.gz] found")


def read_cifar10(root: Path, split: str) -> Loaded:
    from torchvision.datasets import CIFAR10

    try:
        dataset = CIFAR10(str(root), train=split == "train", download=False)
    except RuntimeError as err:
        raise DataError(f"{root}: {err} (expects cifar-10-batches-py/ inside)") from None
    images = torch.from_numpy(np.ascontiguousarray(dataset.data.transpose(0, 3, 1, 2)))
    return images, torch.tensor(dataset.targets, dtype=torch.int64), 0


def read_celeba(root: Path, split: str, limit: int) -> Loaded:
    """CelebA through torchvision (aligned 178x218 faces), centre-cropped to 178x178."""
    from torchvision.datasets import CelebA
    from torchvision.transforms.functional import center_crop, pil_to_tensor

    try:
        dataset = CelebA(str(root), split="train" if split == "train" else "test", download=False)
    except (RuntimeError, OSError) as err:
        raise DataError(f"{root}: {err} (expects celeba/ with img_align_celeba/ and list files)") from None
    count = len(dataset) if limit <= 0 else min(limit, len(dataset))
    images = [center_crop(pil_to_tensor(dataset[i][0]), [178, 178]) for i in range(count)]
    return torch.stack(images), None, 0


def list_images(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def read_image_folder(root: Path, resolution: int, limit: int) -> Loaded:
    """Every image under ``root`` (recursive, sorted), resized to ``resolution``; corrupt files skipped."""
    files = list_images(root)
    if not files:
        raise DataError(f"{root}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) found")
    images, skipped = [], 0
    for path in files:
        if limit and len(images) >= limit:
            break
        try:
            with Image.open(path) as image:
                image = image.convert("RGB").resize((resolution, resolution), Image.BICUBIC)
                images.append(torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1))
        except (UnidentifiedImageError, OSError, ValueError) as err:
            skipped += 1
            log.warning("skipping unreadable image %s (%s)", path, err.__class__.__name__)
    if not images:
        raise DataError(f"{root}: none of {len(files)} image files could be read")
    return torch.stack(images), None, skipped
