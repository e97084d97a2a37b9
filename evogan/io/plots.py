"""PNG plots of a run against generation or step (seed 002, Figs. 6.5 and 6.6).

One figure per TensorBoard tag group (:mod:`evogan.io.outputs` names the tags), so a plot and
its TensorBoard chart always show the same quantities under the same names.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from evogan.io.run_dir import RunDir  # noqa: E402

FIGURES = {"scores": "real / fake score, D accuracy", "losses": "losses", "quality": "quality"}
"""Tag group -> title; the figure is ``plots/<group>.png``."""


def _label(tag: str, metric: str) -> str:
    group, name = tag.split("/", 1)
    return f"{name.removesuffix('_fid')} {metric}" if group == "quality" else name


def plot_groups(run_dir: RunDir, xs: Sequence[float], xlabel: str, points: Sequence[Mapping[str, float]],
                metric: str) -> list[Path]:
    """One PNG per group of FIGURES from ``points`` (tag -> value, one per x); returns the paths."""
    run_dir.plots_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for group, title in FIGURES.items():
        tags = list(dict.fromkeys(tag for point in points for tag in point if tag.startswith(f"{group}/")))
        fig, ax = plt.subplots(figsize=(6, 4))
        for tag in tags:
            ax.plot(xs, [point.get(tag, math.nan) for point in points], marker="o", label=_label(tag, metric))
        ax.set_xlabel(xlabel)
        ax.set_title(metric if group == "quality" else title)
        if tags:
            ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = run_dir.plot(group)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written


def plot_mode_coverage(run_dir: RunDir, counts: Mapping[str, Sequence[int]], mode_names: Sequence[str],
                       min_share: float) -> Path:
    """``plots/mode_coverage.png``: the share of each source's images per mode (``counts`` as
    :func:`evogan.metrics.modes.mode_counts`: one count per mode, then "unsure"), with the
    coverage threshold; the legend gives each source's covered modes."""
    import numpy as np

    run_dir.plots_dir.mkdir(parents=True, exist_ok=True)
    labels = list(mode_names) + ["unsure"]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(len(counts), 1)
    for i, (source, values) in enumerate(counts.items()):
        total = max(sum(values), 1)
        covered = sum(1 for c in values[:-1] if c / total >= min_share)
        ax.bar(np.arange(len(labels)) + (i - (len(counts) - 1) / 2) * width, [c / total for c in values], width,
               label=f"{source}: {covered}/{len(mode_names)} modes")
    ax.axhline(min_share, color="k", linestyle="--", linewidth=0.8, label=f"covered: >= {min_share:.0%}")
    ax.set_xticks(range(len(labels)), labels, rotation=30)
    ax.set_ylabel("share of images")
    ax.set_title("mode coverage (domain classifier, confident assignments)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    path = run_dir.plot("mode_coverage")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
