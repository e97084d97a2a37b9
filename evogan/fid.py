"""``python -m evogan.fid A B``: FID (and optionally KID / IS) between two image sources.

A and B may each be an image folder (searched recursively), an ``.npz`` holding a uint8 image
array (NCHW or NHWC), or a run directory / checkpoint file (N images are sampled from its best
generator, or from the whole mixture of a mixture checkpoint such as ``checkpoints/mixture.pt``).
A is the reference: its statistics are cached, and the domain extractor is trained
on A with the self-supervised rotation task. Any unusable input (a source, the Inception weights,
the cache directory) prints one line naming the path on stderr and exits with code 2, before any
images are sampled or scored (:mod:`evogan.cli`).
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from evogan.cli import Session, run_cli
from evogan.io.inputs import InputError, first_line, require_dir, require_file, require_writable_dir
from evogan.io.run_dir import RunDir

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
CHECKPOINT_SUFFIXES = {".pt", ".pth"}


def load_folder(path: Path, n: int) -> torch.Tensor:
    """The first ``n`` images (sorted paths) as uint8 NCHW; grey if all are grey, else RGB.

    Images of another size than the first are resized to it (bicubic).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())[:n]
    except OSError as err:
        raise InputError(f"{err.filename or path}: cannot list ({err.strerror or err.__class__.__name__})") from None
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
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise InputError(f"{path}: unreadable .npz ({first_line(err, 160)})") from None
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
    """``n`` uint8 samples from the best generator of a run directory or checkpoint file, or
    from a mixture checkpoint (``checkpoints/mixture.pt``: each image from member i with
    probability w_i)."""
    from evogan.config import ConfigError
    from evogan.io.checkpoint import load_sampler

    try:
        sampler = load_sampler(path)
    except ConfigError as err:  # the checkpoint's saved config no longer validates
        raise InputError(f"{path}: checkpoint config: {err}") from None
    return sampler.sample(n, torch.Generator().manual_seed(seed))


def source_kind(source: str) -> tuple[Path, str]:
    """(path, kind) of a source: ``run`` (run directory), ``folder``, ``npz`` or ``checkpoint``;
    InputError naming it when it is missing, unreadable or of no known kind."""
    path = Path(source).expanduser()
    if path.is_dir():
        run = RunDir(path)
        if run.checkpoints_dir.is_dir():
            require_file(run.best_checkpoint, "run directory's best generator")
            return path, "run"
        return require_dir(path), "folder"
    path = require_file(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return path, "npz"
    if suffix in CHECKPOINT_SUFFIXES:
        return path, "checkpoint"
    raise InputError(f"{path}: expected an image folder, an .npz, a run directory or a checkpoint")


def load_images(source: str, n: int) -> torch.Tensor:
    """Dispatch on the kind of ``source``; raises InputError (or CheckpointError) naming it."""
    path, kind = source_kind(source)
    images = load_folder(path, n) if kind == "folder" else load_npz(path, n) if kind == "npz" \
        else load_generated(path, n)
    if images.shape[0] < 2:
        raise InputError(f"{path}: need at least 2 images, found {images.shape[0]}")
    return images


def check_weights(args: argparse.Namespace) -> None:
    """The Inception weights (when an Inception metric is asked for) and the cache directory."""
    if args.inception_weights:
        require_file(args.inception_weights, "--inception-weights")
    require_writable_dir(args.cache_dir, "--cache-dir")
    if args.extractor != "inception" and not args.inception_score:
        return
    from evogan.metrics.inception import inception_weights_path

    try:
        inception_weights_path(args.inception_weights, args.cache_dir)
    except Exception as err:  # missing, offline, or a file torch cannot load / convert
        raise InputError(f"--inception-weights: {first_line(err)}") from None


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


def _main(argv: list[str], session: Session) -> int:
    args = parse_args(argv)
    for source in (args.a, args.b):  # both named paths, before either is loaded
        source_kind(source)
    check_weights(args)
    a, b = load_images(args.a, args.num), load_images(args.b, args.num)
    session.started()
    from evogan.config import MetricsConfig
    from evogan.metrics.scorer import QualityScorer

    cfg = MetricsConfig(real_samples=a.shape[0], inception_weights=args.inception_weights, cache_dir=args.cache_dir)
    scorer = QualityScorer(cfg, f"cli:{Path(args.a).expanduser().resolve()}", a, None, args.device, args.batch_size)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        metrics = scorer.report(b, args.extractor, kid=args.kid, inception_score=args.inception_score)
    for warning in caught:  # e.g. IS requested but the weights have no logits: one line, not a traceback
        print(f"note: {warning.message}", file=sys.stderr)
    for name, value in metrics.items():
        print(f"{name}: {value:.6g}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(_main, argv, log_level=logging.WARNING)  # stdout holds only the metrics


if __name__ == "__main__":
    sys.exit(main())
