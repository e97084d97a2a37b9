"""The report page: one self-contained ``index.html`` (every image a ``data:`` URI, a few lines
of inline CSS and JavaScript, nothing fetched), written atomically."""

from __future__ import annotations

import html
import math
import os
import time
from pathlib import Path
from typing import Sequence

from evogan.io.run_dir import RunDir
from evogan.report import figures
from evogan.report.genealogy import genealogy_html
from evogan.report.runs import (RunData, front_points, operator_totals, quality_series, sample_grids, spread_evenly,
                                unique_names)

MAX_FRAMES = 40
"""Generations shown by a run's slider (evenly spaced, first and last always among them)."""
LIVE_REFRESH_S = 60
"""A report written while its run goes on reloads itself this often."""

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; } \
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; white-space: nowrap; }
img { max-width: 100%; } .frames figure { display: flex; gap: 1em; align-items: flex-start; margin: 0.5em 0; }
.frames figure[hidden] { display: none; }
.frames figure img.grid { image-rendering: pixelated; width: 320px; } figcaption { display: none; }
.slider-row { display: flex; gap: 1em; align-items: center; } .slider-row input { width: 420px; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
ul.tree, ul.tree ul { list-style: none; padding-left: 1.4em; border-left: 1px dotted #aaa; }
ul.tree { border-left: none; padding-left: 0; } .uid { font-weight: bold; font-family: monospace; }
.edge { color: #2a6f97; } .where { color: #555; } .note { color: #666; font-size: 0.9em; }
"""

SCRIPT = """
document.querySelectorAll("input.slider").forEach(function (slider) {
  var box = document.getElementById(slider.dataset.frames);
  var frames = box.querySelectorAll("figure.frame");
  var label = box.querySelector(".frame-label");
  function show() {
    var at = Number(slider.value);
    frames.forEach(function (frame, i) { frame.hidden = i !== at; });
    label.textContent = frames[at].dataset.label;
  }
  slider.addEventListener("input", show);
  show();
});
"""


def write_report(run_dirs: Sequence[RunDir], out: Path | None = None, live: bool = False) -> Path:
    """Write the report of ``run_dirs`` (their curves overlaid) to ``out/index.html`` (default:
    the first run's ``report/``); ``live`` adds a periodic reload. Returns the page's path."""
    runs = [RunData.load(d, name) for d, name in zip(run_dirs, unique_names(run_dirs))]
    path = (Path(out) / "index.html") if out is not None else run_dirs[0].report_index
    path.parent.mkdir(parents=True, exist_ok=True)
    text = build_page(runs, live)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # a reader (or a reloading browser) never sees half a page
    return path


def build_page(runs: Sequence[RunData], live: bool = False) -> str:
    title = "evogan report: " + ", ".join(run.name for run in runs)
    refresh = f'<meta http-equiv="refresh" content="{LIVE_REFRESH_S}">' if live else ""
    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="note">Written {time.strftime("%Y-%m-%d %H:%M:%S")}'
            f'{" while the run goes on (reloads every minute)" if live else ""}.</p>',
            overview_table(runs), quality_section(runs)]
    body += [run_section(run, index) for index, run in enumerate(runs)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title>{refresh}<link rel=\"icon\" href=\"data:,\">"
            f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) +
            f"\n<script>{SCRIPT}</script>\n</body></html>\n")


def img(uri: str | None, alt: str, css: str = "") -> str:
    if uri is None:
        return f'<p class="note">No data for: {html.escape(alt)}.</p>'
    cls = f' class="{css}"' if css else ""
    return f'<img src="{uri}" alt="{html.escape(alt)}"{cls}>'


def _number(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.4g}" if math.isfinite(value) else "–"
    return html.escape(str(value)) if value is not None else "–"


def overview_table(runs: Sequence[RunData]) -> str:
    """One row per run: kind, generations, metric, best and last fitness FID, final metrics."""
    head = ("<tr><th>run</th><th>kind</th><th>generations</th><th>metric</th><th>best</th><th>last best</th>"
            "<th>final report</th></tr>")
    rows = []
    for index, run in enumerate(runs):
        best = [v for v in quality_series(run, "g")["best"] if math.isfinite(v)]
        final = run.summary.get("final_metrics") or {}
        final_text = ", ".join(f"{html.escape(k)} {_number(v)}" for k, v in final.items()) or "–"
        rows.append(f"<tr><td><a href=\"#run-{index}\">{html.escape(run.name)}</a></td>"
                    f"<td>{'evolution' if run.evolution else 'trainer'}</td><td>{len(run.rows)}</td>"
                    f"<td>{html.escape(run.metric)}</td><td>{_number(min(best) if best else None)}</td>"
                    f"<td>{_number(best[-1] if best else None)}</td><td>{final_text}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def quality_section(runs: Sequence[RunData]) -> str:
    return ("<h2>Quality</h2><p class=\"note\">Solid: the population's best; dashed: its mean; band: "
            "its spread (min to max of the valid members). Log y-axes.</p>"
            + img(figures.quality_figure(runs), "quality curves"))


def run_section(run: RunData, index: int) -> str:
    parts = [f'<h2 id="run-{index}">{html.escape(run.name)}</h2>',
             f'<p class="note">{html.escape(str(run.run_dir.root))}</p>',
             "<h3>Samples and Pareto fronts over generations</h3>", frames_section(run, index)]
    if run.evolution:
        fronts = {g: front_points(row) for g, row in zip(run.generations, run.rows)}
        parts += [img(figures.fronts_figure(fronts, run.metric), "Pareto fronts over generations")]
    parts += ["<h3>Hyperparameters</h3>", img(figures.hyperparameter_figure(run), "hyperparameter trajectories")]
    if run.evolution:
        parts += ["<h3>Crossover and mutation</h3>", img(figures.operators_figure(run), "operator success"),
                  operators_table(run)]
    parts += ["<h3>Time per generation</h3>", img(figures.timings_figure(run), "time per generation")]
    if run.evolution:
        parts += ["<h3>Genealogy of the best generator</h3>",
                  genealogy_html(run.rows, run.metric) or '<p class="note">No lineage records.</p>']
    parts += ["<h3>Resolved config</h3>", f"<details open><summary>config.yaml</summary>"
              f"<pre>{html.escape(run.config_text)}</pre></details>"]
    return "<section>" + "\n".join(parts) + "</section>"


def frames_section(run: RunData, index: int) -> str:
    """A range slider over generations; each frame holds the sample grid and the Pareto front."""
    grids = sample_grids(run)
    by_generation = dict(zip(run.generations, run.rows))
    numbers = list(grids) if grids else list(by_generation) if run.evolution else []
    shown = spread_evenly(numbers, MAX_FRAMES)
    if not shown:
        return '<p class="note">No sample grids yet.</p>'
    word = "generation" if run.evolution else "step"
    points = {n: front_points(by_generation[n]) for n in shown if n in by_generation and run.evolution}
    limits = figures.pareto_limits([p for ps in points.values() for p in ps])
    frames = []
    for i, n in enumerate(shown):
        grid = img(figures.png_uri(grids[n].read_bytes()), f"samples, {word} {n}", "grid") if n in grids else ""
        pareto = img(figures.pareto_figure(points[n], n, run.metric, limits), f"Pareto front, generation {n}") \
            if points.get(n) else ""
        hidden = "" if i == len(shown) - 1 else " hidden"
        frames.append(f'<figure class="frame" data-label="{word} {n}"{hidden}>{grid}{pareto}'
                      f"<figcaption>{word} {n}</figcaption></figure>")
    slider = (f'<div class="slider-row"><input type="range" class="slider" min="0" max="{len(shown) - 1}" '
              f'value="{len(shown) - 1}" step="1" data-frames="frames-{index}" aria-label="{word}">'
              f'<span class="frame-label">{word} {shown[-1]}</span></div>')
    note = f'<p class="note">{len(shown)} of {len(numbers)} {word}s shown.</p>' if len(shown) < len(numbers) else ""
    return f'<div class="frames" id="frames-{index}">{slider}{"".join(frames)}</div>{note}'


def operators_table(run: RunData) -> str:
    totals = operator_totals(run)
    if not totals:
        return ""
    rows = "".join(f"<tr><td>{html.escape(op)}</td><td>{int(t['children'])}</td><td>{_number(t['success_rate'])}</td>"
                   f"<td>{_number(t['mean_gain'])}</td></tr>" for op, t in totals.items())
    return ("<table><tr><th>operator</th><th>children</th><th>success rate</th><th>mean gain</th></tr>"
            f"{rows}</table><p class=\"note\">Gain: the child's primary fitness minus its better parent's "
            "(G: -FID, D: balanced accuracy), whole run, weighted by children.</p>")
