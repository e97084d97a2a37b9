"""PNG plots of the thesis' figures against generation (seed 002, Figs. 6.5 and 6.6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FIGURES = {
    "scores.png": ("real_score / fake_score", ("best_real_score", "best_fake_score")),
    "losses.png": ("loss_g / loss_d", ("best_loss_g", "best_loss_d")),
}


def write_plots(rows: list[dict[str, Any]], plot_dir: Path, quality_key: str) -> list[Path]:
    """One PNG per figure from the metrics.jsonl rows; returns the written paths."""
    plot_dir.mkdir(parents=True, exist_ok=True)
    generations = [r["generation"] for r in rows]
    figures = dict(FIGURES)
    figures["quality.png"] = (f"{quality_key} (best and mean)", ("best_fid", "mean_fid"))
    written = []
    for filename, (title, keys) in figures.items():
        fig, ax = plt.subplots(figsize=(6, 4))
        for key in keys:
            ax.plot(generations, [r["population"].get(key) for r in rows], marker="o", label=key)
        ax.set_xlabel("generation")
        ax.set_title(title)
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = plot_dir / filename
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written
