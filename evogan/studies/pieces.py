"""Several experiment directories read as one study: the pieces of one study config run
separately with ``sweep.only_arms`` (e.g. the cheap arms on one machine, the slow arm on
another), reported together by ``python -m evogan.studies DIR1 DIR2 ...``.

Pieces are one study only when every trial got the same compute and protocol: the same base
config (data, model defaults, training, metrics, ``trainer``), swept keys, seeds and scheduler.
Anything else is refused, naming the first key that differs. Each arm comes from one piece only.
The claims judged are the config's claims (recorded by the sweep as ``study_claims``) between
the arms present.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Sequence

from evogan.config import ConfigError
from evogan.studies.config import claims_between

SAME_SWEEP_FIELDS = ("seeds", "scheduler", "num_samples", "search_space")
"""The sweep fields that decide what every trial ran (the rest: names, paths, concurrency)."""


def first_difference(a: Any, b: Any, prefix: str = "") -> str | None:
    """The first dotted key where two nested values differ (None when equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            found = first_difference(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))
            if found is not None:
                return found
        return None
    return None if a == b else (prefix or "(top level)")


def protocol(info: dict[str, Any]) -> dict[str, Any]:
    """What must be equal between pieces: inputs without the sweep and study sections, the
    swept keys, the compute-deciding sweep fields, the study section without its claims."""
    inputs = dict(info["inputs"])
    sweep = inputs.pop("sweep", None) or {}
    study = dict(inputs.pop("study", None) or {})
    study.pop("claims", None)
    return {"inputs": inputs, "keys": info.get("keys", []), "metric": info.get("metric"),
            "sweep": {k: sweep.get(k) for k in SAME_SWEEP_FIELDS}, "study": study}


def _claims(info: dict[str, Any]) -> list[Any]:
    recorded = info.get("study_claims")
    if recorded is None:  # sweeps before study_claims was recorded: the claims of the piece itself
        recorded = (info["inputs"].get("study") or {}).get("claims")
    return list(recorded or [])


def merge_pieces(directories: Sequence[Path], infos: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One SWEEP_FILE-like dict for the pieces (the first one's, with every piece's arms, the
    claims between them and a ``pieces`` list of directory, command and machine)."""
    first = protocol(infos[0])
    for directory, info in zip(directories[1:], infos[1:]):
        key = first_difference(first, protocol(info))
        if key is not None:
            raise ConfigError(f"{directory}: not a piece of the same study as {directories[0]} "
                              f"({key.removeprefix('inputs.')} differs)")
    arms: dict[str, Any] = {}
    for directory, info in zip(directories, infos):
        for name, overrides in (info.get("arms") or {}).items():
            if name in arms:
                raise ConfigError(f"{directory}: arm {name!r} is also in an earlier piece (each arm in one piece only)")
            arms[name] = overrides
    claims: list[dict[str, Any]] = []
    for claim in claims_between([c for info in infos for c in _claims(info)], arms):
        if claim not in claims:
            claims.append(claim)
    merged = copy.deepcopy(dict(infos[0]))
    merged["arms"] = arms
    if claims or "study" in merged["inputs"]:
        merged["inputs"]["study"] = {**(merged["inputs"].get("study") or {}), "claims": claims}
    merged["pieces"] = [{"directory": str(d), "command": i.get("command"), "machine": i.get("machine")}
                        for d, i in zip(directories, infos)]
    merged["command"] = "\n".join(str(i.get("command") or f"python -m evogan.sweep ... ({Path(d).name})")
                                  for d, i in zip(directories, infos))
    return merged
