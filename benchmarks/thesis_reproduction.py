"""Thesis reproduction (seed 002): the pure-GA GA-GAN on Fashion-MNIST at 64 px, 3 channels.

One command runs two arms, one after the other, on the same machine and with the same
fitness protocol (``fid_domain_256``: 256 samples, the domain feature network, the same
2,048 cached real images)::

    python benchmarks/thesis_reproduction.py                    # 30 generations + gradient arm
    python benchmarks/thesis_reproduction.py --generations 10 --gradient-steps 60
    python benchmarks/thesis_reproduction.py --ga-run RUN_DIR --gradient-run RUN_DIR   # re-analyse

1. ``ga``: ``python -m evogan.run --config configs/benchmarks/thesis_fashion64.yaml`` (real Ray,
   local instance): the thesis' DCGAN (latent 128, width 64, G 512/256/128/64/3, seven-conv D),
   BCE, ``evolution.mode=ga`` (weights change only by crossover and mutation), 4 G's and 4 D's
   scored all-vs-all, for ``--generations`` generations.
2. ``gradient``: ``python -m evogan.train`` with the same YAML: one (G, D) pair of the same
   model trained with Adam (lr 2e-4, beta1 0.5, batch 64), ``fid_domain_256`` every
   ``--eval-every`` steps.

The script reads both runs' ``metrics.jsonl`` and ``summary.json`` and writes
``benchmarks/results/thesis_reproduction.json`` and ``thesis_reproduction.png`` (the thesis'
four curves real_score / fake_score / loss_g / loss_d over generations, fitness FID against
wall-clock time for both arms, and the gradient arm's four curves over steps).

What the numbers mean. In the coevolution, per generation, ``best_real_score`` is the mean
P(real | x) of the best D (highest balanced accuracy) on 512 held-out real images;
``best_fake_score`` and ``best_loss_g`` are the best G's (lowest fitness FID) mean P(real | G(z))
and non-saturating BCE under its 4 opposing D's; ``best_loss_d`` is the best D's BCE (real + fake
terms) against its 4 opposing G's. The thesis' 0.9722 / 0.0452 / 5.9757 / 0.0781 are per-epoch
means of a (G, D) pair on Anime Faces while it trains; they describe how the two networks stand
against each other, not image quality, which is why the time-to-quality part uses FID.

Time to quality: the target is the GA's best fitness FID of the whole run (its elites keep the
best G, so the last generations hold it); "time" is the cumulative time of the generations
(GA) or training intervals plus their evaluations (gradient), both without process start-up
(Ray, data loading, cached feature network), which is reported separately.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "configs" / "benchmarks" / "thesis_fashion64.yaml"
DEFAULT_OUT = REPO / "benchmarks" / "results"
DEFAULT_RUNS = REPO / "runs" / "benchmarks" / "thesis_reproduction"

THESIS = {"real_score": 0.9722, "fake_score": 0.0452, "loss_g": 5.9757, "loss_d": 0.0781}
"""Seed 002, section 6.2-6.3: after 30 epochs on Anime Faces (63,565 images, 64x64 RGB)."""
FOUR = tuple(THESIS)


# ----------------------------------------------------------------------------- running


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(key, "1")
    return env


def run_arm(name: str, command: list[str], root: Path) -> dict[str, Any]:
    """Run one arm as a subprocess (output streamed and kept in ``root/<name>.log``); return its
    run directory (the one directory the run creates under ``root/<name>``) and wall time."""
    out_root = root / name
    out_root.mkdir(parents=True, exist_ok=True)
    command = [*command, f"output.root={out_root}"]
    print(f"[{name}] {' '.join(command)}", flush=True)
    started, load_before = time.perf_counter(), _loadavg()
    with open(root / f"{name}.log", "w") as log, subprocess.Popen(
            command, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            log.write(line)
            if "WARNING" not in line:
                print(f"[{name}] {line}", end="", flush=True)
        code = proc.wait()
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"[{name}] exited with {code}; see {root / f'{name}.log'}")
    run_dirs = sorted(p for p in out_root.iterdir() if (p / "metrics.jsonl").is_file())
    if not run_dirs:
        raise SystemExit(f"[{name}] no run directory with metrics.jsonl under {out_root}")
    return {"run_dir": str(run_dirs[-1]), "command": command, "process_wall_s": wall,
            "loadavg_before": load_before, "loadavg_after": _loadavg()}


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ----------------------------------------------------------------------------- reading


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan  # null (NaN/inf) -> nan


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


def read_summary(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "summary.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def ga_curves(run_dir: Path) -> dict[str, Any]:
    """Per generation: the population best/mean of the thesis' four and of FID, cumulative time."""
    rows = read_jsonl(run_dir / "metrics.jsonl")
    out: dict[str, Any] = {"generation": [], "seconds": [], "cumulative_s": [], "fid_running_best": []}
    for key in ("fid", "d_accuracy", "fool_rate", *FOUR):
        out[f"best_{key}"], out[f"mean_{key}"] = [], []
    elapsed, running = 0.0, math.inf
    for row in rows:
        pop = row["population"]
        elapsed += _num(row.get("seconds"))
        out["generation"].append(row["generation"] + 1)
        out["seconds"].append(_num(row.get("seconds")))
        out["cumulative_s"].append(elapsed)
        for key in ("fid", "d_accuracy", "fool_rate", *FOUR):
            out[f"best_{key}"].append(_num(pop.get(f"best_{key}")))
            out[f"mean_{key}"].append(_num(pop.get(f"mean_{key}")))
        if math.isfinite(out["best_fid"][-1]):
            running = min(running, out["best_fid"][-1])
        out["fid_running_best"].append(running)
    out["metric"] = rows[0].get("metric") if rows else None
    out["invalid"] = sum(int(r["population"].get("invalid", 0)) for r in rows)
    out["timings_mean_s"] = {k: sum(_num(r["timings"][k]) for r in rows) / len(rows)
                             for k in (rows[0].get("timings", {}) if rows else {})}
    return out


def gradient_curves(run_dir: Path) -> dict[str, Any]:
    """Per evaluation: step, fitness FID, the thesis' four, cumulative time (train + evaluation)."""
    rows = read_jsonl(run_dir / "metrics.jsonl")
    out: dict[str, Any] = {"step": [], "seconds": [], "cumulative_s": [], "fid": [], "d_accuracy": [],
                           **{k: [] for k in FOUR}}
    elapsed = 0.0
    for row in rows:
        elapsed += _num(row.get("seconds"))
        out["step"].append(row["step"])
        out["seconds"].append(_num(row.get("seconds")))
        out["cumulative_s"].append(elapsed)
        for key in ("fid", "d_accuracy", *FOUR):
            out[key].append(_num(row.get(key)))
    out["metric"] = rows[0].get("metric") if rows else None
    return out


def first_time_at_or_below(times: list[float], values: list[float], target: float) -> float | None:
    for t, v in zip(times, values):
        if math.isfinite(v) and v <= target:
            return t
    return None


def value_at_time(times: list[float], values: list[float], when: float) -> float | None:
    """Lowest value reached by ``when`` (None if nothing was evaluated by then)."""
    seen = [v for t, v in zip(times, values) if t <= when and math.isfinite(v)]
    return min(seen) if seen else None


def time_to_quality(ga: dict[str, Any], grad: dict[str, Any]) -> dict[str, Any]:
    """Time each arm needs to reach the GA's best fitness FID (and the GA's running best after
    each third of the run); the gradient arm's best FID within the GA's whole time."""
    gens = ga["generation"]
    checkpoints = sorted({max(1, round(len(gens) * f)) for f in (1 / 3, 2 / 3, 1.0)}) if gens else []
    targets = []
    for g in checkpoints:
        target = ga["fid_running_best"][g - 1]
        ga_t = first_time_at_or_below(ga["cumulative_s"], ga["best_fid"], target)
        grad_t = first_time_at_or_below(grad["cumulative_s"], grad["fid"], target)
        grad_step = next((s for s, v in zip(grad["step"], grad["fid"]) if math.isfinite(v) and v <= target), None)
        targets.append({"ga_generation": g, "target_fid": target,
                        "below_initial_population": target < ga["best_fid"][0],
                        "ga_seconds": ga_t, "gradient_seconds": grad_t,
                        "gradient_step": grad_step,
                        "speedup_gradient_over_ga": (ga_t / grad_t) if ga_t and grad_t else None,
                        "faster": None if ga_t is None or grad_t is None else ("gradient" if grad_t < ga_t else "ga")})
    ga_total = ga["cumulative_s"][-1] if gens else math.nan
    return {
        "targets": targets,
        "ga_best_fid": min((v for v in ga["best_fid"] if math.isfinite(v)), default=None),
        "ga_first_generation_best_fid": ga["best_fid"][0] if gens else None,
        "ga_total_seconds": ga_total,
        "gradient_total_seconds": grad["cumulative_s"][-1] if grad["step"] else None,
        "gradient_best_fid": min((v for v in grad["fid"] if math.isfinite(v)), default=None),
        "gradient_best_fid_within_ga_time": value_at_time(grad["cumulative_s"], grad["fid"], ga_total),
        "gradient_covers_ga_time": bool(grad["step"]) and grad["cumulative_s"][-1] >= ga_total,
    }


# ----------------------------------------------------------------------------- report


def final_table(ga: dict[str, Any], grad: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key in FOUR:
        rows.append({"metric": key, "thesis": THESIS[key],
                     "ga_best_last_generation": ga[f"best_{key}"][-1] if ga["generation"] else None,
                     "ga_mean_last_generation": ga[f"mean_{key}"][-1] if ga["generation"] else None,
                     "ga_best_first_generation": ga[f"best_{key}"][0] if ga["generation"] else None,
                     "gradient_last_evaluation": grad[key][-1] if grad["step"] else None})
    return rows


def plot(ga: dict[str, Any], grad: dict[str, Any], ttq: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    gens = ga["generation"]
    colours = {"real_score": "tab:blue", "fake_score": "tab:red", "loss_g": "tab:green", "loss_d": "tab:purple"}
    for ax, keys, title in ((axes[0, 0], ("real_score", "fake_score"), "GA: scores over generations"),
                            (axes[0, 1], ("loss_g", "loss_d"), "GA: losses over generations")):
        for key in keys:
            ax.plot(gens, ga[f"best_{key}"], marker="o", ms=3, color=colours[key], label=f"{key} (best)")
            ax.plot(gens, ga[f"mean_{key}"], ls=":", color=colours[key], alpha=0.7, label=f"{key} (population mean)")
            ax.axhline(THESIS[key], ls="--", lw=1, color=colours[key], alpha=0.6, label=f"thesis {THESIS[key]}")
        ax.set_xlabel("generation")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    ax = axes[1, 0]
    metric = ga.get("metric") or "fitness FID"
    ax.plot(ga["cumulative_s"], ga["best_fid"], marker="o", ms=3, color="tab:orange", label="GA: best G per generation")
    ax.plot(ga["cumulative_s"], ga["fid_running_best"], ls="--", color="tab:orange", alpha=0.6,
            label="GA: best so far")
    ax.plot(grad["cumulative_s"], grad["fid"], marker="s", ms=3, color="tab:blue", label="gradient (Adam), one pair")
    if ttq["targets"]:
        final = ttq["targets"][-1]
        ax.axhline(final["target_fid"], color="grey", lw=1, ls=":", label=f"target: GA best {final['target_fid']:.1f}")
        for key, colour in (("ga_seconds", "tab:orange"), ("gradient_seconds", "tab:blue")):
            if final[key] is not None:
                ax.axvline(final[key], color=colour, lw=0.8, ls=":")
    ax.set_xlabel("wall-clock seconds (generations / training + evaluations; no start-up)")
    ax.set_ylabel(f"{metric} (lower is better)")
    ax.set_title("time to quality (same machine, same fitness protocol)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[1, 1]
    for key in FOUR:
        ax.plot(grad["step"], grad[key], marker="s", ms=3, color=colours[key], label=key)
        ax.axhline(THESIS[key], ls="--", lw=1, color=colours[key], alpha=0.5)
    ax.set_xlabel("Adam step")
    ax.set_yscale("log")
    ax.set_title("gradient arm: the thesis' four (dashed: thesis values)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {"cpu": cpu, "cpus": os.cpu_count(), "platform": platform.platform(),
                            "python": platform.python_version()}
    try:
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        pass
    commit = os.environ.get("EVOGAN_COMMIT")
    if not commit:
        try:
            commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                    check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            commit = None
    info["commit"] = commit
    return info


def print_report(result: dict[str, Any]) -> None:
    print("\nfinal values (GA: generation %d; gradient: step %s)" % (
        result["ga"]["generation"][-1] if result["ga"]["generation"] else 0,
        result["gradient"]["step"][-1] if result["gradient"]["step"] else "-"))
    print(f"{'metric':12s} {'thesis':>8s} {'GA best':>9s} {'GA mean':>9s} {'gradient':>9s}")
    for row in result["table"]:
        vals = [row["thesis"], row["ga_best_last_generation"], row["ga_mean_last_generation"],
                row["gradient_last_evaluation"]]
        print(f"{row['metric']:12s} " + " ".join(f"{v:9.4f}" if v is not None else f"{'-':>9s}" for v in vals))
    ttq = result["time_to_quality"]
    print(f"\ntime to quality ({result['ga'].get('metric')}):")
    for t in ttq["targets"]:
        grad = (f"{t['gradient_seconds']:.0f} s (step {t['gradient_step']})" if t["gradient_seconds"] is not None
                else "not reached")
        ga_s = f"{t['ga_seconds']:.0f} s" if t["ga_seconds"] is not None else "-"
        note = "" if t["below_initial_population"] else "  (no better than the initial population)"
        print(f"  target {t['target_fid']:.1f} (GA best by generation {t['ga_generation']}): GA {ga_s}, "
              f"gradient {grad}{note}")
    within = ttq["gradient_best_fid_within_ga_time"]
    print(f"  GA: {ttq['ga_first_generation_best_fid']:.1f} -> {ttq['ga_best_fid']:.1f} "
          f"in {ttq['ga_total_seconds']:.0f} s; "
          f"gradient best {ttq['gradient_best_fid']:.1f} in {ttq['gradient_total_seconds']:.0f} s"
          + (f" (best within the GA's time: {within:.1f})" if within is not None else ""))


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generations", type=int, default=30, help="GA generations (thesis: 30)")
    parser.add_argument("--gradient-steps", type=int, default=100, help="Adam steps of the gradient arm")
    parser.add_argument("--eval-every", type=int, default=5, help="gradient arm: fitness FID every N steps")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--runs-root", type=Path, default=DEFAULT_RUNS,
                        help="run directories go to RUNS_ROOT/<UTC stamp>/{ga,gradient}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the JSON and PNG go")
    parser.add_argument("--ga-run", type=Path, help="analyse this existing GA run directory instead of running")
    parser.add_argument("--gradient-run", type=Path, help="analyse this existing trainer run directory instead")
    parser.add_argument("overrides", nargs="*", help="dotted overrides for both arms (e.g. seed=1)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    root = args.runs_root / stamp
    started = time.perf_counter()
    arms: dict[str, dict[str, Any]] = {}
    previous = _previous_arms(args.out / "thesis_reproduction.json")
    if args.ga_run is None:
        root.mkdir(parents=True, exist_ok=True)
        arms["ga"] = run_arm("ga", [sys.executable, "-m", "evogan.run", "--config", str(args.config),
                                    f"evolution.generations={args.generations}", *args.overrides], root)
    else:
        arms["ga"] = _reused("ga", args.ga_run, previous)
    if args.gradient_run is None:
        root.mkdir(parents=True, exist_ok=True)
        arms["gradient"] = run_arm("gradient", [sys.executable, "-m", "evogan.train", "--config", str(args.config),
                                                f"trainer.steps={args.gradient_steps}",
                                                f"trainer.eval_every={args.eval_every}", *args.overrides], root)
    else:
        arms["gradient"] = _reused("gradient", args.gradient_run, previous)

    ga_dir, grad_dir = Path(arms["ga"]["run_dir"]), Path(arms["gradient"]["run_dir"])
    ga, grad = ga_curves(ga_dir), gradient_curves(grad_dir)
    if ga["metric"] != grad["metric"]:
        raise SystemExit(f"the arms use different fitness metrics: {ga['metric']} vs {grad['metric']}")
    for name, curves, run_dir in (("ga", ga, ga_dir), ("gradient", grad, grad_dir)):
        summary = read_summary(run_dir)
        arms[name]["summary"] = {k: summary.get(k) for k in ("best_fitness_fid", "fitness_metric", "final_metrics",
                                                              "generations", "evaluations", "steps")}
        total = curves["cumulative_s"][-1] if curves["cumulative_s"] else math.nan
        if "process_wall_s" in arms[name]:
            arms[name]["startup_and_report_s"] = arms[name]["process_wall_s"] - total
    ttq = time_to_quality(ga, grad)
    result = {"study": "thesis_reproduction", "created": stamp, "config": str(args.config.resolve().relative_to(REPO))
              if args.config.resolve().is_relative_to(REPO) else str(args.config),
              "generations": len(ga["generation"]), "gradient_steps": grad["step"][-1] if grad["step"] else 0,
              "eval_every": args.eval_every, "overrides": args.overrides, "machine": machine(),
              "thesis": THESIS, "table": final_table(ga, grad), "time_to_quality": ttq, "arms": arms,
              "ga": ga, "gradient": grad, "benchmark_wall_s": time.perf_counter() - started}
    if all(arm.get("reused") for arm in arms.values()) and previous.get("benchmark_wall_s"):
        result["benchmark_wall_s"] = previous["benchmark_wall_s"]  # re-analysis: keep the measured run's
    args.out.mkdir(parents=True, exist_ok=True)
    json_path, png_path = args.out / "thesis_reproduction.json", args.out / "thesis_reproduction.png"
    json_path.write_text(json.dumps(_clean(result), indent=2, allow_nan=False) + "\n")
    plot(ga, grad, ttq, png_path)
    print_report(result)
    print(f"\nwrote {json_path} and {png_path}")
    return 0


def _previous_arms(path: Path) -> dict[str, Any]:
    """The arms (and total wall time) of an earlier result JSON, to keep their process timings
    when ``--ga-run`` / ``--gradient-run`` re-analyse the same run directories."""
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {"arms": previous.get("arms", {}), "benchmark_wall_s": previous.get("benchmark_wall_s")}


def _reused(name: str, run_dir: Path, previous: dict[str, Any]) -> dict[str, Any]:
    old = previous.get("arms", {}).get(name, {})
    if Path(old.get("run_dir", "")).resolve() == run_dir.resolve():
        kept = {k: v for k, v in old.items() if k in ("command", "process_wall_s", "loadavg_before", "loadavg_after")}
        return {"run_dir": str(run_dir), **kept, "reused": True}
    return {"run_dir": str(run_dir), "reused": True}


def _clean(value: Any) -> Any:
    """JSON without NaN/inf (written as null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
