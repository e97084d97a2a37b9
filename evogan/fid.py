"""``python -m evogan.fid A B``: FID (and optionally KID / IS) between two image sources.

A and B may each be an image folder (searched recursively), an ``.npz`` holding a uint8 image
array (NCHW or NHWC), or a run directory / checkpoint file (N images are sampled from its best
generator). A is the reference: its statistics are cached, and the domain extractor is trained
on A with the self-supervised rotation task. Any unusable input prints one line naming the path
on stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
CHECKPOINT_SUFFIXES = {".pt", ".pth"}


class InputError(ValueError):
    """An input path is missing, empty or unreadable; the message starts with the path."""


def load_folder(path: Path, n: int) -> torch.Tensor:
    """The first ``n`` images (sorted paths) as uint8 NCHW; grey if all are grey, else RGB.

    Images of another size than the first are resized to it (bicubic).
    """
    from PIL import Image, UnidentifiedImageError

    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())[:n]
    if not files:
        raise InputError(f"{path}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) found")
    arrays, size = [], None
    for file in files:
        try:
            with Image.open(file) as image:
                image = image.convert("L" if image.mode in ("1", "L", "I;16", "I") else "RGB")
        except (OSError, UnidentifiedImageError) as err:
            raise InputError(f"{file}: unreadable image ({err.__class__.__name__})") from None
        size = size or image.size
        arrays.append(np.asarray(image if image.size == size else image.resize(size, Image.BICUBIC)))
    if all(a.ndim == 2 for a in arrays):
        return torch.from_numpy(np.stack(arrays)[:, None])
    rgb = [a if a.ndim == 3 else np.repeat(a[..., None], 3, axis=2) for a in arrays]
    return torch.from_numpy(np.stack(rgb).transpose(0, 3, 1, 2).copy())


def load_npz(path: Path, n: int) -> torch.Tensor:
    """``images`` (or the only array) of an .npz as uint8 NCHW; NHWC and NHW are converted."""
    try:
        with np.load(path, allow_pickle=False) as data:
            key = "images" if "images" in data.files else (data.files[0] if len(data.files) == 1 else None)
            if key is None:
                raise InputError(f"{path}: expected an 'images' array, found {', '.join(data.files)}")
            array = data[key][:n]
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: unreadable .npz ({err})") from None
    if array.dtype != np.uint8:
        raise InputError(f"{path}: images must be uint8 in [0, 255], got {array.dtype}")
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim == 4 and array.shape[1] not in (1, 3) and array.shape[-1] in (1, 3):
        array = array.transpose(0, 3, 1, 2)
    if array.ndim != 4 or array.shape[1] not in (1, 3):
        raise InputError(f"{path}: expected images (n, c, h, w) or (n, h, w, c) with 1 or 3 channels, "
                         f"got {array.shape}")
    return torch.from_numpy(np.ascontiguousarray(array))


def load_generated(path: Path, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` uint8 samples from the best generator of a run directory or checkpoint file."""
    from evogan.io.checkpoint import CheckpointError, load_generator
    from evogan.models.sampling import sample_images

    try:
        variant, modules, _ = load_generator(path)
    except CheckpointError as err:
        raise InputError(str(err)) from None
    return sample_images(variant, modules, n, torch.Generator().manual_seed(seed))


def load_images(source: str, n: int) -> torch.Tensor:
    """Dispatch on the kind of ``source``; raises InputError naming it."""
    path = Path(source).expanduser()
    if path.is_dir():
        images = load_generated(path, n) if (path / "checkpoints").is_dir() else load_folder(path, n)
    elif not path.is_file():
        raise InputError(f"{path}: no such file or directory")
    elif path.suffix.lower() == ".npz":
        images = load_npz(path, n)
    elif path.suffix.lower() in CHECKPOINT_SUFFIXES:
        images = load_generated(path, n)
    else:
        raise InputError(f"{path}: expected an image folder, an .npz, a run directory or a checkpoint")
    if images.shape[0] < 2:
        raise InputError(f"{path}: need at least 2 images, found {images.shape[0]}")
    return images


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evogan.fid", description=__doc__.splitlines()[0])
    parser.add_argument("a", help="reference: image folder, .npz, run directory or checkpoint")
    parser.add_argument("b", help="compared set: same kinds as A")
    parser.add_argument("--extractor", choices=("inception", "domain"), default="inception")
    parser.add_argument("--num", type=int, default=10000, help="images per source (sampled from generators)")
    parser.add_argument("--kid", action="store_true", help="also print KID (Binkowski et al. 2018)")
    parser.add_argument("--is", dest="inception_score", action="store_true", help="also print the Inception Score of B")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--cache-dir", default="~/.cache/evogan")
    parser.add_argument("--inception-weights", default="", help="TorchScript or torch-fidelity state dict")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        a, b = load_images(args.a, args.num), load_images(args.b, args.num)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from evogan.config import MetricsConfig
    from evogan.metrics.scorer import QualityScorer

    cfg = MetricsConfig(real_samples=a.shape[0], inception_weights=args.inception_weights, cache_dir=args.cache_dir)
    try:
        scorer = QualityScorer(cfg, f"cli:{Path(args.a).expanduser().resolve()}", a, None, args.device, args.batch_size)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            metrics = scorer.report(b, args.extractor, kid=args.kid, inception_score=args.inception_score)
    except FileNotFoundError as err:  # no Inception weights
        print(f"error: {err}", file=sys.stderr)
        return 2
    for warning in caught:  # e.g. IS requested but the weights have no logits: one line, not a traceback
        print(f"note: {warning.message}", file=sys.stderr)
    for name, value in metrics.items():
        print(f"{name}: {value:.6g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
