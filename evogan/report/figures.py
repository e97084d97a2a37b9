"""The report's charts: matplotlib figures rendered to PNG ``data:`` URIs (no pyplot state, no files).

Every function takes what :mod:`evogan.report.runs` reads and returns a URI, or None when the
run has nothing to draw for that chart.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any, Sequence

from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, MaxNLocator

from evogan.report.runs import RunData, best_hp, hp_points, loss_counts, operator_series, quality_series, timing_parts

DPI = 90


class PlainLog(Formatter):
    """Labels the ticks a log axis's own formatter labels, as plain numbers (319, 0.55) instead
    of 3.19x10^2, 5.5x10^-1."""

    def __init__(self, inner: Formatter):
        self.inner = inner

    def set_locs(self, locs: Sequence[float]) -> None:
        self.inner.set_locs(locs)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:.4g}" if self.inner(x, pos) else ""


def log_scale(ax: Any, axis: str = "y") -> None:
    """A log scale on ``axis`` with plain-number tick labels (values <= 0 are masked)."""
    getattr(ax, f"set_{axis}scale")("log", nonpositive="mask")
    target = getattr(ax, f"{axis}axis")
    target.set_major_formatter(PlainLog(target.get_major_formatter()))
    target.set_minor_formatter(PlainLog(target.get_minor_formatter()))


def new_figure(width: float, height: float, panels: int = 1, **margins: float) -> tuple[Figure, Any]:
    """A figure of ``panels`` axes side by side with fixed margins (tight_layout would double
    the cost of a chart, and the page redraws every chart every few generations)."""
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(**{"left": 0.07, "right": 0.98, "bottom": 0.14, "top": 0.9, "wspace": 0.25, **margins})
    axes = fig.subplots(1, panels)
    for ax in axes if panels > 1 else (axes,):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # generations; a log x-axis replaces it
    return fig, axes


def data_uri(fig: Figure) -> str:
    """The figure as a base64 PNG ``data:`` URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _has(values: Sequence[float]) -> bool:
    return any(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in values)


def quality_figure(runs: Sequence[RunData]) -> str | None:
    """Best, mean and spread (min-max band) of G's FID and D's balanced accuracy per generation,
    log y-axes, one colour per run (several runs overlay)."""
    series = [(run, quality_series(run, "g"), quality_series(run, "d")) for run in runs]
    if not any(_has(g["best"]) or _has(d["best"]) for _, g, d in series):
        return None
    fig, axes = new_figure(11, 4, 2)
    for colour, (run, *sides) in enumerate(series):
        for ax, s in zip(axes, sides):
            ax.plot(s["x"], s["best"], color=f"C{colour % 10}", marker="o", markersize=3, label=f"{run.name} best")
            ax.plot(s["x"], s["mean"], color=f"C{colour % 10}", linestyle="--", label=f"{run.name} mean")
            ax.fill_between(s["x"], s["low"], s["high"], color=f"C{colour % 10}", alpha=0.15, linewidth=0)
    metric = runs[0].metric
    for ax, title in zip(axes, (f"G: {metric} (lower is better)", "D: balanced accuracy (higher is better)")):
        log_scale(ax)
        ax.set_xlabel("generation")
        ax.set_title(title)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize="small")
    return data_uri(fig)


def pareto_limits(points: Sequence[dict[str, Any]]) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Shared axes (FID range, fool-rate range) for every generation's Pareto chart."""
    fids = [p["fid"] for p in points if p["fid"] > 0]
    if not fids:
        return None
    low, high = min(fids), max(fids)
    pad = max((high / low) ** 0.08, 1.01)  # 8% of the span on a log axis, at least 1%
    return (low / pad, high * pad), (-0.05, 1.05)


def pareto_figure(points: Sequence[dict[str, Any]], generation: int, metric: str,
                  limits: tuple[tuple[float, float], tuple[float, float]] | None) -> str:
    """One generation's generators on (FID, fool rate); the non-dominated front highlighted."""
    fig, ax = new_figure(4.4, 3.5, left=0.15, bottom=0.15)
    rest = [p for p in points if not p["front"]]
    front = sorted((p for p in points if p["front"]), key=lambda p: p["fid"])
    ax.scatter([p["fid"] for p in rest], [p["fool_rate"] for p in rest], color="0.6", s=18, label="dominated")
    ax.step([p["fid"] for p in front], [p["fool_rate"] for p in front], where="post", color="C3", alpha=0.6)
    ax.scatter([p["fid"] for p in front], [p["fool_rate"] for p in front], color="C3", s=30, label="Pareto front")
    for p in front:
        ax.annotate(str(p["uid"]), (p["fid"], p["fool_rate"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if limits:
        log_scale(ax, "x")
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
    ax.set_xlabel(f"{metric} (quality = -FID)")
    ax.set_ylabel("fool rate")
    ax.set_title(f"generation {generation}: G objectives", fontsize="medium")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", loc="lower right")
    return data_uri(fig)


def fronts_figure(fronts: dict[int, list[dict[str, Any]]], metric: str) -> str | None:
    """Every generation's Pareto front in one chart, coloured by generation."""
    if not any(fronts.values()):
        return None
    fig, ax = new_figure(6, 4, left=0.12, right=0.9)
    colours, last = colormaps["viridis"], max(fronts) or 1
    for generation, points in fronts.items():
        front = sorted((p for p in points if p["front"]), key=lambda p: p["fid"])
        ax.step([p["fid"] for p in front], [p["fool_rate"] for p in front], where="post",
                color=colours(generation / last), marker="o", markersize=3)
    bar = fig.colorbar(ScalarMappable(Normalize(0, last), colours), ax=ax, label="generation")
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    log_scale(ax, "x")
    ax.set_xlabel(f"{metric} (quality = -FID)")
    ax.set_ylabel("fool rate")
    ax.set_title("Pareto fronts of G over generations")
    ax.grid(alpha=0.3)
    return data_uri(fig)


def hyperparameter_figure(run: RunData) -> str | None:
    """lr_g of the G's and lr_d of the D's (every member, the best one as a line; log y) and the
    D's adversarial loss types (stacked counts) per generation."""
    panels = [("g", "lr_g", "lr_g of the generators"), ("d", "lr_d", "lr_d of the discriminators")]
    losses = loss_counts(run, "d")
    if not any(hp_points(run, side, key)[0] for side, key, _ in panels):
        return None
    fig, axes = new_figure(13, 3.6, 3 if losses else 2, left=0.06, bottom=0.15)
    for ax, (side, key, title) in zip(axes, panels):
        xs, ys = hp_points(run, side, key)
        ax.scatter(xs, ys, s=12, alpha=0.6, label="members")
        bx, by = best_hp(run, side, key)
        if bx:
            ax.plot(bx, by, color="C3", label=f"best {side.upper()}")
        log_scale(ax)
        ax.set_title(title)
        ax.set_xlabel("generation")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize="small")
    if losses:
        ax, bottom = axes[2], [0] * len(run.rows)
        for i, (name, counts) in enumerate(losses.items()):
            ax.bar(run.generations, counts, bottom=bottom, color=f"C{i}", label=name)
            bottom = [b + c for b, c in zip(bottom, counts)]
        ax.set_title("loss types of the discriminators")
        ax.set_xlabel("generation")
        ax.set_ylabel("members")
        ax.legend(fontsize="small")
    return data_uri(fig)


def operators_figure(run: RunData) -> str | None:
    """Per operator and population: the fraction of children that beat their better parent,
    and how many children it made, per generation."""
    series = operator_series(run)
    if not series:
        return None
    fig, (rate_ax, count_ax) = new_figure(11, 3.6, 2, bottom=0.15)
    for i, (op, s) in enumerate(series.items()):
        rate_ax.plot(s["x"], s["success_rate"], marker="o", markersize=3, color=f"C{i}", label=op)
        count_ax.plot(s["x"], s["children"], marker="o", markersize=3, color=f"C{i}", label=op)
    rate_ax.set_ylim(-0.05, 1.05)
    rate_ax.set_title("success rate (child beats its better parent)")
    count_ax.set_title("children made")
    for ax in (rate_ax, count_ax):
        ax.set_xlabel("generation")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return data_uri(fig)


def timings_figure(run: RunData) -> str | None:
    """Seconds per generation, stacked by the engine's phases."""
    parts = timing_parts(run)
    if not parts:
        return None
    fig, ax = new_figure(11, 3.6, bottom=0.15)
    bottom = [0.0] * len(run.rows)
    for i, (name, values) in enumerate(parts.items()):
        label = "score (without FID wait)" if name == "score" else name
        ax.bar(run.generations, values, bottom=bottom, color=f"C{i}", label=label)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xlabel("generation")
    ax.set_ylabel("seconds")
    ax.set_title("time per generation")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize="small", ncol=4)
    return data_uri(fig)
