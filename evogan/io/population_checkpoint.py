"""Population checkpoints as shards plus a manifest, on run storage (:mod:`evogan.io.storage`).

Layout under the storage root::

    checkpoints/gen_000012/shard_000.pt   one per population actor, written by that actor
    checkpoints/gen_000012/manifest.json  written by the driver once every shard is written
    checkpoints/latest.json               a copy of the last complete manifest
    checkpoints/best.pt                   the best generator so far, written by its actor
    checkpoints/mixture.pt                the final generators' FID-optimised mixture (end of run)

A shard holds its actor's individuals (weights, optimiser states, variant state) and is read
with ``torch.load(weights_only=True)``. The manifest holds only scalars: the generation, the
driver's handles and hall of fame, and each shard's name, size and SHA-256, so a torn or
altered shard is detected and never loaded. Weights never pass through the driver.
"""

from __future__ import annotations

import io
import json
from typing import Any

import torch

from evogan.io.checkpoint import FORMAT_VERSION, CheckpointError
from evogan.io.storage import Storage, sha256

CHECKPOINTS = "checkpoints"
LATEST = f"{CHECKPOINTS}/latest.json"
BEST = f"{CHECKPOINTS}/best.pt"
MIXTURE = f"{CHECKPOINTS}/mixture.pt"


def run_storage(output: Any, run_root: Any) -> Storage:
    """The run's storage: ``<output.storage>/<run name>``, or the run directory itself."""
    name = getattr(run_root, "name", str(run_root).rstrip("/").rsplit("/", 1)[-1])
    return Storage(f"{output.storage.rstrip('/')}/{name}") if output.storage else Storage(run_root)


def generation_dir(generation: int) -> str:
    return f"{CHECKPOINTS}/gen_{generation:06d}"


def shard_path(generation: int, shard: int) -> str:
    return f"{generation_dir(generation)}/shard_{shard:03d}.pt"


def encode(payload: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save({"format": FORMAT_VERSION, **payload}, buffer)
    return buffer.getvalue()


def write_shard(storage: Storage, generation: int, shard: int, population: dict[str, Any]) -> dict[str, Any]:
    """Write one actor's shard; returns its manifest entry (name, bytes, sha256)."""
    data = encode({"kind": "shard", "generation": generation, "shard": shard, "population": population})
    name = shard_path(generation, shard)
    storage.write(name, data)
    return {"shard": shard, "name": name, "bytes": len(data), "sha256": sha256(data)}


def read_shard(storage: Storage, entry: dict[str, Any]) -> dict[str, Any]:
    """A shard's population state, after checking its size and hash against the manifest."""
    where = storage.path(entry["name"])
    try:
        data = storage.read(entry["name"])
    except (OSError, FileNotFoundError) as err:
        raise CheckpointError(f"{where}: unreadable checkpoint shard ({err})") from None
    if len(data) != entry["bytes"] or sha256(data) != entry["sha256"]:
        raise CheckpointError(f"{where}: checkpoint shard does not match its manifest (torn or altered)")
    payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    return payload["population"]


def write_generator(storage: Storage, member: dict[str, Any], meta: dict[str, Any]) -> None:
    """``best.pt``: one generator's weights and hyperparameters (no optimiser state) plus
    ``meta`` (config, image shape, generation, fid, metric); written by the owning actor."""
    storage.write(BEST, encode({"kind": "generator", "member": member, **meta}))


def read_generator(storage: Storage) -> dict[str, Any]:
    """The ``best.pt`` payload on run storage."""
    payload = torch.load(io.BytesIO(storage.read(BEST)), map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("kind") != "generator":
        raise CheckpointError(f"{storage.path(BEST)}: not a generator checkpoint")
    return payload


def write_mixture(storage: Storage, weights: list[float], members: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    """``mixture.pt``: generator i of ``members`` (member states without optimiser state) is
    sampled with probability ``weights[i]``; ``meta`` as for :func:`write_generator`. Written
    by the driver at the end of a run (the members' weights reach it only then)."""
    storage.write(MIXTURE, encode({"kind": "mixture", "weights": [float(w) for w in weights],
                                   "members": members, **meta}))


def write_manifest(storage: Storage, manifest: dict[str, Any]) -> None:
    """Publish a complete generation: its manifest, then ``latest.json``."""
    data = json.dumps({"format": FORMAT_VERSION, "kind": "manifest", **manifest}).encode()
    storage.write(f"{generation_dir(manifest['generation'])}/manifest.json", data)
    storage.write(LATEST, data)


def _complete(storage: Storage, manifest: dict[str, Any]) -> bool:
    return all(storage.exists(e["name"]) and storage.size(e["name"]) == e["bytes"] for e in manifest["shards"])


def read_latest_manifest(storage: Storage) -> dict[str, Any] | None:
    """The newest manifest whose shards all exist with their recorded sizes (None: no checkpoint)."""
    candidates = [LATEST] + [f"{CHECKPOINTS}/{d}/manifest.json" for d in reversed(storage.subdirs(CHECKPOINTS))]
    for name in candidates:
        if not storage.exists(name):
            continue
        try:
            manifest = json.loads(storage.read(name))
        except (ValueError, OSError):
            continue
        if (manifest.get("format") == FORMAT_VERSION and manifest.get("kind") == "manifest"
                and _complete(storage, manifest)):
            return manifest
    if storage.exists(LATEST):
        raise CheckpointError(f"{storage.path(LATEST)}: no complete checkpoint "
                              "(every manifest is torn or its shards are missing)")
    return None


def prune(storage: Storage, keep: int, newest: int) -> None:
    """Delete generation directories older than the ``keep`` newest (never the newest)."""
    for name in storage.subdirs(CHECKPOINTS):
        if name.startswith("gen_") and int(name[4:]) <= newest - keep:
            storage.delete_dir(f"{CHECKPOINTS}/{name}")
