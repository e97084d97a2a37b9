"""A scored study as Markdown (the table, the verdicts, the command and the machine) and PNG
plots: training curves, final scores, the stability figures, a heat map for grids, samples."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from evogan.studies.analysis import Study, sample_final  # noqa: E402
from evogan.studies.machine import one_line  # noqa: E402
from evogan.studies.stability import COLLAPSE_FACTOR, OSCILLATION_FACTOR  # noqa: E402

TABLE_COLUMNS = ("fid_domain", "is_domain", "fid_inception", "best_fid", "final_fid", "var_loss_g",
                 "var_loss_d", "collapses", "oscillations")


def _fmt(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def cell(stats: tuple[float, float, int]) -> str:
    mean, std, n = stats
    if n == 0:
        return "–"
    return _fmt(mean) if n == 1 else f"{_fmt(mean)} ± {_fmt(std)}"


def column_names(study: Study, names: dict[str, str]) -> dict[str, str]:
    metric = study.metric
    return {"fid_domain": names.get("fid_domain", "fid_domain"), "is_domain": names.get("is_domain", "is_domain"),
            "fid_inception": names.get("fid_inception", "fid_inception") + " (1st seed)",
            "best_fid": f"best {metric}", "final_fid": f"final {metric}", "var_loss_g": "var loss_g",
            "var_loss_d": "var loss_d", "collapses": "collapses", "oscillations": "oscillations"}


def table(study: Study, rows: list[dict[str, Any]], names: dict[str, str]) -> str:
    headers = column_names(study, names)
    present = [c for c in TABLE_COLUMNS if any(row["stats"].get(c, (0, 0, 0))[2] for row in rows)]
    head = ["row", "seeds", "steps", "s/step"] + [headers[c] for c in present]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        steps = row["stats"].get("steps", (math.nan, 0, 0))
        sec = row["stats"].get("sec_per_step", (math.nan, 0, 0))
        values = [row["group"], str(len(row["seeds"])), f"{steps[0]:.0f}" if math.isfinite(steps[0]) else "–",
                  f"{sec[0]:.3f}" if math.isfinite(sec[0]) else "–"]
        values += [cell(row["stats"].get(c, (math.nan, math.nan, 0))) for c in present]
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines)


def verdict_lines(entries: list[dict[str, Any]]) -> list[str]:
    lines = []
    for entry in entries:
        if "note" in entry:
            lines.append(f"- **{entry['verdict']}**: {entry['claim']} ({entry['note']})")
            continue
        (am, asd, an), (bm, bsd, bn) = entry["arm_stats"], entry["baseline_stats"]
        p = entry["p"]
        test = f"one-sided Welch p = {p:.3g}" if math.isfinite(p) else "fewer than 2 seeds a side: no test"
        lines.append(f"- **{entry['verdict']}**: {entry['claim']}: {entry['metric']} {entry['arm']} "
                     f"{_fmt(am)} ± {_fmt(asd)} (n={an}) vs {entry['baseline']} {_fmt(bm)} ± {_fmt(bsd)} "
                     f"(n={bn}); {test}")
    return lines


def markdown(study: Study, rows: list[dict[str, Any]], names: dict[str, str], entries: list[dict[str, Any]],
             plots: list[Path], warnings: list[str], analysis_command: str, analysis_machine: dict,
             out_dir: Path) -> str:
    info, spec = study.info, study.study
    title = spec.title or study.directory.name
    trainer = study.base.get("trainer", {})
    lines = [f"### {title}", ""]
    if spec.paper:
        lines += [f"Seed paper: {spec.paper}.", ""]
    earlier = [source["command"] for source in info.get("seeds_from", []) if source.get("command")]
    lines += ["```", *earlier, info.get("command") or f"python -m evogan.sweep ... ({study.directory.name})",
              analysis_command, "```", ""]
    data = study.config.data
    reference = "the full training split" if spec.reference == "full" else "the trials' training images"
    lines += [
        f"Budget: {study.steps} gradient steps per trial (batch {study.config.train.batch_size}), "
        f"{len(study.trials) + len(study.recorded)} trials, "
        f"evaluated every {trainer.get('eval_every', '?')} steps with `{study.metric}`. "
        f"Data: {data.name}"
        + (f" (limit {data.limit})" if data.limit else "") + f", {data.resolution} px. "
        f"Final generators scored on {names.get('fid_domain', '')} / {names.get('is_domain', '')} against {reference} "
        f"({spec.real_samples} real images, domain network trained on its labels)"
        + (f"; {names['fid_inception']} on each row's first seed" if "fid_inception" in names else "") + ".",
        "",
        *sweep_machines(info),
        f"Analysis machine: {one_line(analysis_machine)}.", ""]
    lines += recorded_lines(study)
    if info.get("smoke"):
        lines += ["**Smoke profile** (`sweep.smoke=true`): a plumbing check, not a measurement.", ""]
    lines += [table(study, rows, names), ""]
    lines += [f"Mean ± sample std over seeds. s/step: training seconds per gradient step (FID evaluations excluded). "
              f"Stability (per trial, then averaged): var loss_*: variance of the per-interval mean training loss "
              f"across evaluations (first left out); collapses: evaluations with {study.metric} > {COLLAPSE_FACTOR}x "
              f"the best before it or non-finite; oscillations: {study.metric} peaks > {OSCILLATION_FACTOR}x both "
              "neighbours.", ""]
    lines += [f"> {w}" for w in warnings] + ([""] if warnings else [])
    if entries:
        lines += ["Verdicts:", ""] + verdict_lines(entries) + [""]
    if plots:
        lines += [" ".join(f"![{p.stem}]({p.relative_to(out_dir) if p.is_relative_to(out_dir) else p})"
                           for p in plots), ""]
    return "\n".join(lines)


def sweep_machines(info: dict[str, Any]) -> list[str]:
    """One line per sweep: the machine each piece of a study ran on (or the one sweep's), then
    the machine of each earlier report's seeds (``--seeds-from``)."""
    pieces = info.get("pieces") or [{"machine": info.get("machine")}]
    lines = []
    for piece in pieces:
        name = f" ({Path(piece['directory']).name})" if len(pieces) > 1 else ""
        machine = f"{one_line(piece['machine'])}." if piece.get("machine") else "not recorded."
        lines.append(f"Sweep machine{name}: {machine}")
    for source in info.get("seeds_from", []):
        machine = f"{one_line(source['machine'])}." if source.get("machine") else "not recorded."
        lines.append(f"Sweep machine (seeds {', '.join(map(str, source['seeds']))}, earlier report): {machine}")
    return lines


def recorded_lines(study: Study) -> list[str]:
    """What a report with seeds from earlier reports takes from them."""
    if not study.recorded:
        return []
    earlier = sorted({r.seed for r in study.recorded})
    live = sorted({t.seed for t in study.trials})
    return [f"Seeds {', '.join(map(str, earlier))} come from earlier reports of this study (`--seeds-from`, same "
            f"protocol and budget, checked): their figures as reported there. Curves and samples show seeds "
            f"{', '.join(map(str, live))} only.", ""]


# ----------------------------------------------------------------------------- plots


LEGEND_INSIDE_MAX = 6
"""Rows whose labels fit inside the curves' axes; more go under the plot."""


def _colors(n: int):
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def plot_curves(study: Study, out: Path) -> Path:
    """The training-time metric against the step: mean over seeds, band = min..max."""
    groups = study.groups()
    many = len(groups) > LEGEND_INSIDE_MAX
    fig, ax = plt.subplots(figsize=(7, 4.2 + (0.16 * len(groups) if many else 0)))
    for color, (group, trials) in zip(_colors(len(groups)), groups.items()):
        steps = sorted({int(row["step"]) for t in trials for row in t.rows if "step" in row})
        values = np.array([[next((float(r.get(study.metric, np.nan)) for r in t.rows if int(r.get("step", -1)) == s),
                                 np.nan) for s in steps] for t in trials])
        values[values >= 1e8] = np.nan
        if not steps:
            continue
        mean = np.nanmean(values, axis=0)
        ax.plot(steps, mean, label=group, color=color)
        if len(trials) > 1:
            ax.fill_between(steps, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color=color, alpha=0.15)
    ax.set_xlabel("gradient step")
    ax.set_ylabel(study.metric)
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if many:  # a sweep's long labels would cover the curves: list them under the plot
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(0.0, -0.14), frameon=False)
    else:
        ax.legend(fontsize=7)
    ax.set_title("training curves (mean over seeds, band: min..max)", fontsize=9)
    return _save(fig, out)


def plot_final(rows: list[dict[str, Any]], names: dict[str, str], out: Path) -> Path:
    """Final fid_domain and is_domain per row: mean ± std and each seed."""
    columns = [c for c in ("fid_domain", "is_domain", "fid_inception")
               if any(r["stats"].get(c, (0, 0, 0))[2] for r in rows)]
    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 0.5 + 0.45 * max(4, len(rows))),
                             squeeze=False)
    labels = [row["group"] for row in rows]
    for ax, column in zip(axes[0], columns):
        means = [row["stats"].get(column, (np.nan, np.nan, 0))[0] for row in rows]
        stds = [row["stats"].get(column, (np.nan, np.nan, 0))[1] for row in rows]
        y = np.arange(len(rows))
        ax.barh(y, means, xerr=stds, color=_colors(len(rows)), alpha=0.6, capsize=3)
        for i, row in enumerate(rows):
            vals = [v for v in row["values"].get(column, []) if math.isfinite(v)]
            ax.plot(vals, [i] * len(vals), "k.", ms=4)
        ax.set_yticks(y, labels, fontsize=7)
        ax.invert_yaxis()
        if column.startswith("is_"):
            ax.set_xlim(left=1.0)  # the score's floor: every image in one class, or none sure
        ax.set_xlabel(names.get(column, column)
                      + (" (higher is better)" if column.startswith("is_") else " (lower is better)"),
                      fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    return _save(fig, out)


def _value_of(row: dict[str, Any], key: str) -> Any:
    from evogan.studies.analysis import lookup

    return lookup(row["assignments"], key)


def plot_heatmap(rows: list[dict[str, Any]], keys: tuple[str, str], column: str, name: str, out: Path) -> Path:
    """Mean ``column`` over a 2-key grid (x = keys[0], y = keys[1])."""
    xs = sorted({_value_of(r, keys[0]) for r in rows})
    ys = sorted({_value_of(r, keys[1]) for r in rows})
    grid = np.full((len(ys), len(xs)), np.nan)
    for row in rows:
        grid[ys.index(_value_of(row, keys[1])),
             xs.index(_value_of(row, keys[0]))] = row["stats"].get(column, (np.nan,))[0]
    fig, ax = plt.subplots(figsize=(1.3 * len(xs) + 2.5, 1.0 * len(ys) + 1.6))
    image = ax.imshow(grid, cmap="viridis_r" if not column.startswith("is_") else "viridis", aspect="auto",
                      norm=heatmap_norm(grid))
    ax.set_xticks(range(len(xs)), [f"{x:.3g}" if isinstance(x, float) else str(x) for x in xs])
    ax.set_yticks(range(len(ys)), [f"{y:.3g}" if isinstance(y, float) else str(y) for y in ys])
    ax.set_xlabel(keys[0])
    ax.set_ylabel(keys[1])
    for (i, j), value in np.ndenumerate(grid):
        if math.isfinite(value):
            red, green, blue, _ = image.cmap(image.norm(value))
            light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
            ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=8, color="k" if light else "w")
    fig.colorbar(image, ax=ax, label=name)
    ax.set_title(f"{name}, mean over {seeds_label(rows, column)} per cell", fontsize=9)
    return _save(fig, out)


def heatmap_norm(grid: np.ndarray) -> LogNorm | None:
    """A log colour scale when the finite, positive cells span more than 10x (FID from 30 to 1,200 would
    otherwise paint every good cell the same colour); linear (None) otherwise."""
    finite = grid[np.isfinite(grid)]
    if finite.size and finite.min() > 0 and finite.max() > 10 * finite.min():
        return LogNorm(finite.min(), finite.max())
    return None


def seeds_label(rows: list[dict[str, Any]], column: str) -> str:
    """'3 seeds' (or '1-3 seeds' when cells differ): how many values each heat-map cell averages."""
    counts = sorted({len(r["values"].get(column, [])) for r in rows})
    span = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return f"{span} seed" + ("" if counts == [1] else "s")


def plot_stability(rows: list[dict[str, Any]], key: str, names: dict[str, str], metric: str, out: Path) -> Path:
    """Final FID, instability events and D-loss variance against one swept key (e.g. CFT's FD)."""
    ordered = sorted(rows, key=lambda r: _value_of(r, key))
    xs = [_value_of(r, key) for r in ordered]
    panels = [("fid_domain", names.get("fid_domain", "fid_domain")), ("best_fid", f"best {metric}"),
              ("events", "collapses + oscillations"), ("var_loss_d", "var loss_d")]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.2))
    for ax, (column, title) in zip(axes, panels):
        if column == "events":
            per_seed = [[c + o for c, o in zip(r["values"].get("collapses", []), r["values"].get("oscillations", []))]
                        for r in ordered]
        else:
            per_seed = [r["values"].get(column, []) for r in ordered]
        means = [np.nanmean(v) if v else np.nan for v in per_seed]
        stds = [np.nanstd(v, ddof=1) if len(v) > 1 else 0.0 for v in per_seed]
        positions = range(len(xs))
        ax.errorbar(positions, means, yerr=stds, marker="o", capsize=3)
        for i, vals in enumerate(per_seed):
            ax.plot([i] * len(vals), vals, "k.", ms=3)
        ax.set_xticks(list(positions), [str(x) for x in xs])
        ax.set_xlabel(key.split(".")[-1])
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
    return _save(fig, out)


def plot_samples(study: Study, out: Path, per_row: int = 10) -> Path:
    """``per_row`` samples of each row's first-seed final generator, one row each."""
    groups = study.groups()
    fig, axes = plt.subplots(len(groups), 1, figsize=(per_row * 0.6 + 1.8, 0.75 * len(groups) + 0.3), squeeze=False)
    for ax, (group, trials) in zip(axes[:, 0], groups.items()):
        trial = next((t for t in trials if t.checkpoint is not None), None)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(group, rotation=0, ha="right", va="center", fontsize=7)
        if trial is None:
            continue
        images = sample_final(trial.checkpoint, per_row).float() / 255.0
        strip = torch_cat_width(images)
        ax.imshow(strip, cmap="gray" if strip.ndim == 2 else None, vmin=0, vmax=1)
    return _save(fig, out)


def torch_cat_width(images) -> np.ndarray:
    """(n, c, h, w) floats -> one (h, n*w[, c]) strip."""
    array = images.numpy()
    strip = np.concatenate(list(array), axis=2)  # (c, h, n*w)
    return strip[0] if strip.shape[0] == 1 else np.transpose(strip, (1, 2, 0))


def _save(fig, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out
