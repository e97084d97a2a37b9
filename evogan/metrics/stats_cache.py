"""Real-data feature statistics cached on disk, as stylegan2-ada's metrics do.

An entry is keyed by a hash of (dataset description, fingerprint of the images used, resolution,
channels, extractor ``cache_id``, sample count) and written atomically (``np.savez`` to a temp
file, then ``os.replace``), so concurrent runs never read a half-written file and a second run
does not recompute.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np


def cache_key(**fields: Any) -> str:
    """Stable short hash of JSON-serialisable fields."""
    return hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:20]


def cache_path(cache_dir: str | os.PathLike, kind: str, key: str) -> Path:
    return Path(cache_dir).expanduser() / "stats" / f"{kind}-{key}.npz"


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """``np.savez`` to a temp file in the same folder, then atomically ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_or_compute(path: Path, compute: Callable[[], Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Arrays stored at ``path``, else ``compute()`` them and store them atomically."""
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # unreadable / truncated by an old crash: recompute
            pass
    arrays = dict(compute())
    save_arrays(path, arrays)
    return arrays
