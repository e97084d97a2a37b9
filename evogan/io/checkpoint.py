"""Atomic checkpoint writes and safe reads (``torch.load(weights_only=True)``).

A checkpoint is written to a temporary file in the same directory, fsynced, then renamed
over the old one, so a crash or a full disk never leaves a half-written file behind.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

FORMAT_VERSION = 1
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once at import: os.umask can only be read by setting it


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable or not an evogan checkpoint; names the path."""


def atomic_write_bytes(path: Path, write) -> None:
    """Call ``write(file)`` on a temp file beside ``path``, then atomically replace ``path``; the
    file gets the mode a plain ``open`` would give it (mkstemp's 0600 would hide results and
    checkpoints from the other users of a shared cluster)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(payload: dict[str, Any], path: str | os.PathLike) -> None:
    payload = {"format": FORMAT_VERSION, **payload}
    atomic_write_bytes(Path(path), lambda handle: torch.save(payload, handle))


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> dict[str, Any]:
    """Read an evogan checkpoint with ``weights_only=True``; ``kind`` checks its type."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for corrupt or unsafe files
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else err.__class__.__name__
        raise CheckpointError(f"{path}: unreadable checkpoint ({first_line[:160]})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: not an evogan checkpoint (format {FORMAT_VERSION})")
    if kind is not None and payload.get("kind") != kind:
        raise CheckpointError(f"{path}: expected a {kind} checkpoint, got {payload.get('kind')!r}")
    return payload


def member_of(payload: dict[str, Any], path: Path) -> dict[str, Any]:
    """The generator entry of a checkpoint: ``member`` of a generator checkpoint, the hall-of-
    fame (else first) generator of a population checkpoint, or the highest-weight member of a
    mixture checkpoint (what ``--seed-population`` starts every individual from)."""
    member = payload.get("member")
    if member is None and payload.get("kind") == "mixture":
        members, weights = _mixture_parts(payload, path)
        member = members[max(range(len(members)), key=lambda i: weights[i])]
    if member is None and payload.get("kind") == "population":
        generators = list(payload["population"].get("g", {}).values())
        best = [h["uid"] for h in payload.get("hall_of_fame", [])]
        member = next((m for m in generators if m["uid"] in best), generators[0] if generators else None)
    if member is None:
        raise CheckpointError(f"{path}: holds no generator")
    return member


def _mixture_parts(payload: dict[str, Any], path: Path) -> tuple[list[dict[str, Any]], list[float]]:
    """(members, weights) of a mixture checkpoint, checked: as many finite weights >= 0 as members."""
    members, weights = payload.get("members"), payload.get("weights")
    if not isinstance(members, list) or not isinstance(weights, list) or not members \
            or len(members) != len(weights):
        raise CheckpointError(f"{path}: mixture checkpoint needs as many members as weights")
    try:
        weights = [float(w) for w in weights]
    except (TypeError, ValueError):
        raise CheckpointError(f"{path}: mixture weights must be numbers") from None
    if not all(math.isfinite(w) and w >= 0 for w in weights) or sum(weights) <= 0:
        raise CheckpointError(f"{path}: mixture weights must be finite, >= 0 and not all 0")
    return members, weights


def _checkpoint_file(path: str | os.PathLike) -> Path:
    from evogan.io.run_dir import RunDir

    path = Path(path)
    return RunDir(path).best_checkpoint if path.is_dir() else path


def _generator_modules(variant: Any, member: dict[str, Any], config: Any, path: Path, device: str):
    """A freshly built variant's modules with ``member``'s weights (every G-side module required)."""
    modules = variant.build()
    try:
        loaded = modules.load_state_dict(member["modules"], strict=False)
    except (RuntimeError, KeyError, TypeError) as err:
        raise CheckpointError(f"{path}: weights do not match {config.model.variant} ({str(err)[:120]})") from None
    missing = [k for k in loaded.missing_keys if variant.module_side(k.split(".")[0]) == "g"]
    if loaded.unexpected_keys or missing:
        wrong = (loaded.unexpected_keys or missing)[0]
        raise CheckpointError(f"{path}: weights do not match {config.model.variant} ({wrong})")
    return modules.to(device)


def load_sampler(path: str | os.PathLike, device: str = "cpu"):
    """Something with ``.sample(n, gen) -> uint8 images`` for any generator source: a
    :class:`~evogan.models.sampling.MixtureSampler` for a mixture checkpoint (each image from
    member i with probability w_i), else a :class:`~evogan.models.sampling.GeneratorSampler`
    of :func:`load_generator`'s generator. Both carry ``variant``, ``config`` and ``kind``."""
    from evogan.models import build_variant
    from evogan.models.sampling import GeneratorSampler, MixtureSampler
    from evogan.validation import from_dict

    path = _checkpoint_file(path)
    payload = load_checkpoint(path)
    if payload.get("kind") != "mixture":
        return GeneratorSampler(*_generator_of(payload, path, device))
    config = from_dict(payload["config"])
    members, weights = _mixture_parts(payload, path)
    variant = build_variant(config.model, tuple(payload["image_shape"]))
    return MixtureSampler(variant, [_generator_modules(variant, m, config, path, device) for m in members],
                          weights, config)


def load_generator(path: str | os.PathLike, device: str = "cpu"):
    """(variant, modules, config) of the generator in a run directory or checkpoint file.

    A run directory resolves to its ``checkpoints/best.pt``; ``population`` checkpoints use
    their best generator, ``mixture`` checkpoints their highest-weight member (sample the whole
    mixture with :func:`load_sampler`). The checkpoint must hold every generator-side module (G-only
    checkpoints from coevolution and (G, D) pairs from the trainer both qualify); modules it
    lacks keep their fresh initialisation. Used by ``python -m evogan.fid`` and to seed populations.
    """
    path = _checkpoint_file(path)
    return _generator_of(load_checkpoint(path), path, device)


def _generator_of(payload: dict[str, Any], path: Path, device: str):
    """(variant, modules, config) of :func:`member_of` ``payload``."""
    from evogan.models import build_variant
    from evogan.validation import from_dict

    config = from_dict(payload["config"])
    member = member_of(payload, path)
    variant = build_variant(config.model, tuple(payload["image_shape"]))
    return variant, _generator_modules(variant, member, config, path, device), config
