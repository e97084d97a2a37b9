"""More seeds of a study read back from an earlier report of it (its ``results.json``):
``python -m evogan.studies NEW_DIR --seeds-from OLD_REPORT/results.json``.

For a study whose seeds ran at different times (seed 0 first, seeds 1 and 2 later) once the
earlier sweep's Tune directory is gone. The earlier trials' figures (final scores, best and final
training metric, stability, seconds per step) are taken as that report wrote them; curves and
samples show the trials of the directories given.

The earlier report must be of the same study at the same budget and protocol, or it is refused
naming what differs: the same recorded ``protocol`` apart from ``sweep.seeds`` (reports written
before the protocol was recorded: the same sweep command apart from its ``sweep.seeds=`` and
``sweep.name=`` overrides), the same metric names, every trial at the budget, rows of this study,
and no (row, seed) twice.
"""

from __future__ import annotations

import copy
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evogan.config import ConfigError
from evogan.io.inputs import read_json
from evogan.studies.pieces import first_difference, protocol

SEEDLESS_OVERRIDES = ("sweep.seeds=", "sweep.name=")
"""Sweep-command overrides that do not change what a trial ran."""


@dataclass(frozen=True)
class RecordedTrial:
    """One trial of an earlier report: its row, seed, steps and figures (as aggregated)."""

    group: str
    seed: int
    steps: int
    figures: dict[str, float]
    source: str


def seedless_protocol(info: dict[str, Any]) -> dict[str, Any]:
    """:func:`evogan.studies.pieces.protocol` without the seeds: what seed pieces share."""
    found = copy.deepcopy(protocol(info))
    found["sweep"].pop("seeds", None)
    return found


def _seedless_command(command: str | None) -> list[str]:
    return [word for word in shlex.split(command or "") if not word.startswith(SEEDLESS_OVERRIDES)]


def _protocol_difference(earlier: dict[str, Any], info: dict[str, Any]) -> str | None:
    if "protocol" in earlier:
        return first_difference(earlier["protocol"], seedless_protocol(info))
    if _seedless_command(earlier.get("command")) != _seedless_command(info.get("command")):
        return "the sweep command (apart from sweep.seeds and sweep.name)"
    return None


def _load(path: Path) -> dict[str, Any]:
    data = read_json(path, ConfigError, f"--seeds-from {path}: not a readable study report")
    if not isinstance(data, dict) or not isinstance(data.get("trials"), list):
        raise ConfigError(f"--seeds-from {path}: not a study report's results.json (no trials)")
    return data


def read_recorded(path: Path, info: dict[str, Any], names: dict[str, str], real_samples: int, steps: int,
                  live: set[tuple[str, int]]) -> tuple[list[RecordedTrial], dict[str, Any]]:
    """The earlier report's trials and what the report says of them (command, machine, seeds);
    ConfigError naming the first mismatch with this study (``live``: its (row, seed) pairs)."""
    data = _load(path)
    difference = _protocol_difference(data, info)
    if difference is not None:
        raise ConfigError(f"--seeds-from {path}: not the same study protocol ({difference} differs)")
    if data.get("names") != names or data.get("real_samples", real_samples) != real_samples:
        raise ConfigError(f"--seeds-from {path}: scored with {data.get('names')} against "
                          f"{data.get('real_samples', '?')} real images, not {names} against {real_samples}")
    rows, seen = {group for group, _ in live}, set(live)
    trials = [RecordedTrial(t["group"], int(t["seed"]), int(t["steps"]), dict(t["figures"]), str(path))
              for t in data["trials"]]
    for trial in trials:
        where = f"--seeds-from {path}: row {trial.group!r} seed {trial.seed}"
        if trial.group not in rows:
            raise ConfigError(f"{where} is not a row of this study")
        if (trial.group, trial.seed) in seen:
            raise ConfigError(f"{where} is also in this study already (each seed from one place only)")
        if trial.steps != steps:
            raise ConfigError(f"{where} trained {trial.steps} steps, not the budget {steps}")
        seen.add((trial.group, trial.seed))
    source = {"path": str(path), "command": data.get("command"), "machine": data.get("machine"),
              "seeds": sorted({t.seed for t in trials})}
    return trials, source
