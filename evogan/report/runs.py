"""What the report reads from a run directory, and the series it draws (pure: files in, lists out).

An ``evogan.run`` directory has one metrics row per generation with every individual of both
populations; an ``evogan.train`` directory has one row per evaluation of its one individual
(``step``, ``fid``, ``d_accuracy`` ... at the top level). Both are read; the population views
(Pareto fronts, genealogy, operators) are empty for the second kind.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from evogan.io.jsonl import read_jsonl
from evogan.io.run_dir import RunDir

TIMING_PARTS = ("breed", "train", "score", "fid_wait", "outputs", "checkpoint")
"""The engine's phases of a generation, in order; ``fid_wait`` is the part of ``score`` spent
waiting for the FID actor and is drawn separately from the rest of ``score``."""
QUALITY = {"g": ("fid", min), "d": ("d_accuracy", max)}
"""Population -> (its quality key, which end is best)."""
_GRID = re.compile(r"(gen|step)_(\d+)\.png$")


@dataclass
class RunData:
    """One run directory as the report sees it."""

    run_dir: RunDir
    name: str
    rows: list[dict[str, Any]]
    config_text: str
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, run_dir: RunDir, name: str | None = None) -> "RunData":
        summary = {}
        if run_dir.summary.is_file():
            try:
                summary = json.loads(run_dir.summary.read_text())
            except (OSError, json.JSONDecodeError):
                summary = {}
        texts = [p.read_text(errors="replace") for p in (run_dir.config, run_dir.trainer_config) if p.is_file()]
        return cls(run_dir, name or run_dir.root.name, read_jsonl(run_dir.metrics), "\n".join(texts), summary)

    @property
    def evolution(self) -> bool:
        """Rows with populations (``evogan.run``), not single-individual evaluations (``evogan.train``)."""
        return any("individuals" in row for row in self.rows)

    @property
    def metric(self) -> str:
        return next((row["metric"] for row in self.rows if "metric" in row), "fid")

    @property
    def generations(self) -> list[int]:
        return [row.get("generation", i) for i, row in enumerate(self.rows)]


def unique_names(run_dirs: Sequence[RunDir]) -> list[str]:
    """Each run's folder name; ``parent/name`` where two runs share a name (e.g. benchmark arms)."""
    names = [d.root.name for d in run_dirs]
    return [f"{d.root.parent.name}/{n}" if names.count(n) > 1 else n for d, n in zip(run_dirs, names)]


def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def members(row: dict[str, Any], side: str) -> list[dict[str, Any]]:
    """The valid individuals of population ``side`` ('g' or 'd') in one generation's row."""
    return [r for r in row.get("individuals", ()) if r.get("population") == side and r.get("valid", True)]


def quality_series(run: RunData, side: str) -> dict[str, list[float]]:
    """x, best, mean, low, high of a population's quality key per generation (nan where missing);
    a trainer run's one individual gives best = mean = low = high."""
    key, pick = QUALITY[side]
    out: dict[str, list[float]] = {name: [] for name in ("x", "best", "mean", "low", "high")}
    for x, row in zip(run.generations, run.rows):
        values = [r[key] for r in members(row, side) if finite(r.get(key))] if "individuals" in row else \
            [row[key]] if finite(row.get(key)) else []
        out["x"].append(x)
        out["best"].append(pick(values) if values else math.nan)
        out["mean"].append(sum(values) / len(values) if values else math.nan)
        out["low"].append(min(values) if values else math.nan)
        out["high"].append(max(values) if values else math.nan)
    return out


def pareto_mask(points: Sequence[tuple[float, float]]) -> list[bool]:
    """Which of ``points`` (both coordinates maximised) no other point dominates."""
    def dominated(p: tuple[float, float]) -> bool:
        return any(q[0] >= p[0] and q[1] >= p[1] and q != p for q in points)

    return [not dominated(p) for p in points]


def front_points(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A generation's generators as {uid, fid, fool_rate, front} (front: non-dominated on
    (-FID, fool rate), the generator objectives)."""
    rows = [r for r in members(row, "g") if finite(r.get("fid")) and finite(r.get("fool_rate"))]
    mask = pareto_mask([(-r["fid"], r["fool_rate"]) for r in rows])
    return [{"uid": r["uid"], "fid": r["fid"], "fool_rate": r["fool_rate"], "front": m} for r, m in zip(rows, mask)]


def hp_points(run: RunData, side: str, key: str) -> tuple[list[int], list[float]]:
    """(generation, value) of hyperparameter ``key`` for every valid member of ``side``;
    a trainer run's rows carry the learning rates at the top level."""
    xs, ys = [], []
    for x, row in zip(run.generations, run.rows):
        values = [r.get("hp", {}).get(key) for r in members(row, side)] if "individuals" in row else [row.get(key)]
        for value in values:
            if finite(value):
                xs.append(x)
                ys.append(float(value))
    return xs, ys


def best_hp(run: RunData, side: str, key: str) -> tuple[list[int], list[float]]:
    """(generation, value) of ``key`` for the generation's best member of ``side``."""
    xs, ys = [], []
    for x, row in zip(run.generations, run.rows):
        uid = row.get("population", {}).get(f"best_{side}_uid")
        value = next((r.get("hp", {}).get(key) for r in members(row, side) if r["uid"] == uid), None)
        if finite(value):
            xs.append(x)
            ys.append(float(value))
    return xs, ys


def loss_counts(run: RunData, side: str = "d") -> dict[str, list[int]]:
    """Adversarial loss type -> how many members of ``side`` use it, per generation."""
    names = sorted({r.get("hp", {}).get("loss", "?") for row in run.rows for r in members(row, side)})
    return {name: [sum(r.get("hp", {}).get("loss", "?") == name for r in members(row, side)) for row in run.rows]
            for name in names}


def operator_series(run: RunData) -> dict[str, dict[str, list[float]]]:
    """Operator key (``g_crossover``, ``g_mutation``, ``d_mutation`` ...) -> x, children,
    success_rate and mean_gain per generation that bred such children."""
    out: dict[str, dict[str, list[float]]] = {}
    for x, row in zip(run.generations, run.rows):
        for op, stats in sorted((row.get("crossover") or {}).items()):
            series = out.setdefault(op, {"x": [], "children": [], "success_rate": [], "mean_gain": []})
            series["x"].append(x)
            for name in ("children", "success_rate", "mean_gain"):
                series[name].append(float(stats.get(name, math.nan)))
    return out


def operator_totals(run: RunData) -> dict[str, dict[str, float]]:
    """Operator key -> children, success rate and mean gain over the whole run (child-weighted)."""
    totals = {}
    for op, s in operator_series(run).items():
        children = sum(s["children"])
        weighted = lambda name: sum(c * v for c, v in zip(s["children"], s[name]) if finite(v)) / children  # noqa: E731
        totals[op] = {"children": children, "success_rate": weighted("success_rate") if children else math.nan,
                      "mean_gain": weighted("mean_gain") if children else math.nan}
    return totals


def timing_parts(run: RunData) -> dict[str, list[float]]:
    """Part -> seconds per generation: the engine's phases (``score`` without its FID wait) and
    ``other`` (the rest of the generation's wall-clock seconds)."""
    parts: dict[str, list[float]] = {name: [] for name in TIMING_PARTS + ("other",)}
    for row in run.rows:
        timings = row.get("timings") or {}
        values = {name: float(timings.get(name, 0.0) or 0.0) for name in TIMING_PARTS}
        values["score"] = max(values["score"] - values["fid_wait"], 0.0)
        values["other"] = max(float(row.get("seconds") or 0.0) - sum(values.values()), 0.0)
        for name, value in values.items():
            parts[name].append(value)
    return {name: values for name, values in parts.items() if any(values)}


def sample_grids(run: RunData) -> dict[int, Path]:
    """Number (generation, or the trainer's step) -> sample grid PNG, in order."""
    if not run.run_dir.samples_dir.is_dir():
        return {}
    found = {int(m.group(2)): p for p in run.run_dir.samples_dir.iterdir() if (m := _GRID.match(p.name))}
    return dict(sorted(found.items()))


def spread_evenly(items: Sequence[int], limit: int) -> list[int]:
    """At most ``limit`` of ``items``, evenly spaced, always with the first and the last."""
    if len(items) <= limit:
        return list(items)
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]
