"""Scaling: generation time, engine overhead and driver bytes against population size and actors.

    python benchmarks/scaling.py                           # every case below (see benchmarks/README.md)
    python benchmarks/scaling.py --groups actors,overhead  # some groups only
    python benchmarks/scaling.py --cases cluster_pop32     # one case, merged into the existing results
    python benchmarks/scaling.py --smoke                   # 2 generations of the small cases, a quick check

Cases (each one run of ``python -m evogan.run``; output under ``runs/benchmarks/scaling/<case>``):

* ``cluster``: populations of 8, 16 and 32 small models (``configs/benchmarks/scaling.yaml``) on
  the local two-node cluster of ``scripts/local_cluster.sh`` (2 CPUs per node), 2 population
  actors of 1 CPU each spread one per node; each run is a ``ray job submit --working-dir .``.
  All three cases share one cluster, started once.
* ``actors``: 1 vs 2 population actors (1 CPU each) on one local Ray instance of 2 CPUs:
  population 8 of the same small model (``local_1actor``, ``local_2actors``), and evogan's
  default job (``python -m evogan.run`` defaults, population 4, 4 generations) on 1 actor
  (``default_1actor``; its 2-actor twin is ``default`` below).
* ``overhead``: evogan's default job on its 2 actors (``default``) and the thesis' model size
  (``configs/benchmarks/scaling_thesis.yaml``: ``thesis`` with 10 Adam steps per individual and
  generation, ``thesis_steps40`` with 40), each on one local instance.

Every figure comes from the run's own ``metrics.jsonl`` rows: ``seconds`` (the generation's wall
time, its sample grid, TensorBoard and checkpoint included), ``timings.engine_overhead``
(``seconds`` minus ``actor_busy_max``, the busiest actor's time training, sampling and scoring
its members, FID service included: i.e. everything except the members' own work), and
``driver_bytes`` (payload bytes of the call results the driver received in that generation).
Generation 0 (actor start-up, first imports, warm-up) is left out of the averages.

To say what the driver's bytes are, each run goes through this script's ``_job`` entry, which
wraps the public methods of ``evogan.distributed.population_actor.RayBackend`` and records how
much of ``received_bytes`` each one added per generation (checked against the row's
``driver_bytes``); evogan itself is unchanged.

Before each case the script waits (polling every minute, up to ``--max-wait`` seconds over all
cases together) until the 1-minute load average is at most ``--max-load``, records the load
before and during the run, and measures the machine's parallel capacity just before it: the
matmul rate of two concurrent single-threaded processes over that of one alone (2.0 on two idle
cores; on a shared machine, what 2 actors can gain over 1 at best).
Results: ``benchmarks/results/scaling.json`` (and the Markdown table on stdout).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SMALL_CONFIG = "configs/benchmarks/scaling.yaml"
THESIS_CONFIG = "configs/benchmarks/scaling_thesis.yaml"
DEFAULT_ROOT = REPO / "runs" / "benchmarks" / "scaling"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "scaling.json"
CLUSTER_SCRIPT = REPO / "scripts" / "local_cluster.sh"
GROUPS = ("cluster", "actors", "overhead")
SKIP = 1
"""Leading generations left out of the averages (generation 0 includes actor start-up and warm-up)."""

TARGETS = {
    "driver_bytes_pop32": 1_000_000,  # bytes per generation at population 32
    "overhead_thesis": 0.05,          # share of generation time at the thesis model size
    "overhead_small": 0.10,           # ... at the default small model
    "actor_speedup": 1.7,             # generations per hour, 2 actors over 1 on 2 cores
}


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    where: str  # "cluster" (ray job submit on the two-node cluster) or "local" (own local instance)
    label: str
    config: str | None
    overrides: tuple[str, ...] = ()


CASES = [
    *[Case(f"cluster_pop{n}", "cluster", "cluster", f"population {n}, 2 nodes x 1 actor", SMALL_CONFIG,
           (f"evolution.population_size={n}", "evolution.num_actors=2", "ray.actor_num_cpus=1", "ray.placement=SPREAD"))
      for n in (8, 16, 32)],
    *[Case(f"local_{k}actor{'s' if k > 1 else ''}", "actors", "local",
           f"population 8, {k} actor{'s' if k > 1 else ''}, 1 node",
           SMALL_CONFIG, ("evolution.population_size=8", f"evolution.num_actors={k}", "ray.actor_num_cpus=1",
                          "ray.num_cpus=2"))
      for k in (1, 2)],
    *[Case(name, group, "local", f"default job (width 32), population 4, {k} actor{'s' if k > 1 else ''}", None,
           ("evolution.generations=4", f"evolution.num_actors={k}", "ray.num_cpus=2", "ray.dashboard=false",
            "mixture.enabled=false", "metrics.report_samples=256"))
      for name, group, k in (("default_1actor", "actors", 1), ("default", "overhead", 2))],
    Case("thesis", "overhead", "local", "thesis model size, population 4, 2 actors, 10 steps", THESIS_CONFIG),
    Case("thesis_steps40", "overhead", "local", "thesis model size, population 4, 2 actors, 40 steps", THESIS_CONFIG,
         ("train.steps_per_generation=40",)),
]
SPEEDUP_PAIRS = {"small model, population 8": ("local_1actor", "local_2actors"),
                 "default model, population 4": ("default_1actor", "default")}
BY_NAME = {c.name: c for c in CASES}


# ----------------------------------------------------------------------------- load


def load1() -> float:
    return os.getloadavg()[0]


WAITED = [0.0]
"""Seconds this process has waited for the load so far (``--max-wait`` bounds the total)."""


def wait_for_load(max_load: float, max_wait: float, poll: float = 60.0) -> dict[str, Any]:
    """Sleep while the 1-minute load is above ``max_load``, at most ``max_wait`` seconds in all."""
    started, first = time.monotonic(), load1()
    while load1() > max_load and WAITED[0] + time.monotonic() - started + poll <= max_wait:
        print(f"  load {load1():.2f} > {max_load}: waiting", flush=True)
        time.sleep(poll)
    waited = time.monotonic() - started
    WAITED[0] += waited
    return {"first": round(first, 2), "at_start": round(load1(), 2), "waited_s": round(waited)}


class LoadSampler:
    """The 1-minute load average every few seconds while a case runs."""

    def __init__(self, every: float = 5.0):
        self.every, self.samples, self._stop = every, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(load1())
            self._stop.wait(self.every)

    def __enter__(self) -> "LoadSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        s = self.samples or [load1()]
        return {"mean": round(statistics.fmean(s), 2), "max": round(max(s), 2)}


PROBE = """
import time, torch
torch.set_num_threads(1)
a = torch.randn(256, 256)
t, n = time.perf_counter(), 0
while time.perf_counter() - t < {seconds}:
    a @ a
    n += 1
print(n / (time.perf_counter() - t))
"""


def parallel_capacity(seconds: float = 4.0) -> dict[str, float]:
    """How many cores' worth of work this machine gives two single-threaded processes right now:
    the matmul rate of two concurrent processes over that of one alone (2.0 on two idle cores)."""
    code = PROBE.format(seconds=seconds)

    def start():
        return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)

    alone = float(start().communicate()[0])
    pair = [start(), start()]
    together = sum(float(p.communicate()[0]) for p in pair)
    return {"one_process_per_s": round(alone), "two_processes_per_s": round(together),
            "capacity": round(together / alone, 2)}


# ----------------------------------------------------------------------------- one run


def job_argv(case: Case, case_dir: Path, generations: int | None, cache_dir: str | None) -> list[str]:
    """``python benchmarks/scaling.py _job ...`` for this case (paths relative to the repository root)."""
    argv = ["python", "benchmarks/scaling.py", "_job", "--calls", str(case_dir / "call_bytes.json"), "--"]
    if case.config:
        argv += ["--config", case.config]
    argv += [*case.overrides, f"output.root={case_dir / 'runs'}"]
    if generations:
        argv.append(f"evolution.generations={generations}")
    if cache_dir:
        argv.append(f"metrics.cache_dir={cache_dir}")
    return argv


def run_case(case: Case, case_dir: Path, args: argparse.Namespace, dashboard: str = "") -> None:
    """Run one case (locally, or as a job on the cluster at ``dashboard``); write case_dir/meta.json."""
    case_dir.mkdir(parents=True, exist_ok=True)
    argv = job_argv(case, case_dir, args.generations, args.cache_dir)
    if case.where == "cluster":
        command = ["ray", "job", "submit", "--address", dashboard, "--working-dir", ".",
                   "--submission-id", f"scaling-{case.name}-{int(time.time())}", "--", *argv]
    else:
        command = [sys.executable, *argv[1:]]
    print(f"{case.name}: {' '.join(command)}", flush=True)
    load = wait_for_load(args.max_load, args.max_wait)
    load["parallel_capacity"] = parallel_capacity()
    started = time.monotonic()
    while (load["parallel_capacity"]["capacity"] < args.min_capacity
           and WAITED[0] + time.monotonic() - started + 60 <= args.max_wait):
        print(f"  parallel capacity {load['parallel_capacity']['capacity']} < {args.min_capacity}: waiting", flush=True)
        time.sleep(60)
        load["parallel_capacity"] = parallel_capacity()
    WAITED[0] += time.monotonic() - started
    load["waited_s"] += round(time.monotonic() - started)
    load["at_start"] = round(load1(), 2)
    started = time.monotonic()
    with LoadSampler() as sampler, (case_dir / "job.log").open("w") as log:
        try:
            rc: int | str = subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    load.update(during=sampler.summary(), after=round(load1(), 2))
    meta = {"case": case.name, "command": command, "rc": rc, "wall_s": round(time.monotonic() - started, 1),
            "load": load}
    (case_dir / "meta.json").write_text(json.dumps(meta, indent=2))
    print(f"{case.name}: rc {rc}, {meta['wall_s']} s, load before {load['at_start']} during {load['during']}, "
          f"parallel capacity {load['parallel_capacity']['capacity']}", flush=True)


def cluster_main(argv: list[str]) -> int:
    """Inside scripts/local_cluster.sh: the cluster cases one after another on this cluster."""
    args = parse_args(argv)
    dashboard = os.environ.get("LOCAL_CLUSTER_DASHBOARD", "")
    if not dashboard:
        sys.exit("_cluster runs inside scripts/local_cluster.sh")
    from ray.util.state import list_nodes

    nodes = [{"node_id": n.node_id, "is_head": n.is_head_node, "resources": n.resources_total}
             for n in list_nodes(address=dashboard, detail=True, raise_on_missing_output=False)]
    args.root.mkdir(parents=True, exist_ok=True)
    (args.root / "cluster_nodes.json").write_text(json.dumps(nodes, indent=2))
    for name in args.cases.split(","):
        run_case(BY_NAME[name], args.root / name, args, dashboard)
    return 0


def job_main(argv: list[str]) -> int:
    """``python -m evogan.run`` with the driver's received bytes attributed to RayBackend methods."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=Path, required=True)
    parser.add_argument("run_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    run_args = args.run_args[1:] if args.run_args[:1] == ["--"] else args.run_args
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")

    from evogan.distributed.population_actor import RayBackend
    from evogan.io.reporter import RunReporter

    tally: Counter = Counter()
    calls: Counter = Counter()
    per_generation: list[dict[str, Any]] = []
    depth = [0]

    def wrap(name, method):
        def wrapped(self, *a, **kw):
            before, depth[0] = self.received_bytes, depth[0] + 1
            try:
                return method(self, *a, **kw)
            finally:
                depth[0] -= 1
                if depth[0] == 0:  # attribute to the outermost backend method only
                    tally[name] += self.received_bytes - before
                    calls[name] += 1
        return wrapped

    for name, method in list(vars(RayBackend).items()):
        if callable(method) and not name.startswith("_"):
            setattr(RayBackend, name, wrap(name, method))
    report = RunReporter.__call__

    def reporter_call(self, summary, engine):
        report(self, summary, engine)  # it calls samples/where/save_shards/save_best, then sets driver_bytes
        per_generation.append({"generation": summary["generation"], "driver_bytes": summary.get("driver_bytes"),
                               "bytes": dict(tally), "calls": dict(calls)})
        tally.clear()
        calls.clear()

    RunReporter.__call__ = reporter_call
    from evogan.run import main

    try:
        return main(run_args)
    finally:
        args.calls.parent.mkdir(parents=True, exist_ok=True)
        args.calls.write_text(json.dumps({"per_generation": per_generation,
                                          "after_last_generation": {"bytes": dict(tally), "calls": dict(calls)}},
                                         indent=1))


# ----------------------------------------------------------------------------- summaries


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def summarise(case: Case, case_dir: Path) -> dict[str, Any]:
    meta = json.loads((case_dir / "meta.json").read_text())
    out: dict[str, Any] = {"label": case.label, "group": case.group, "where": case.where, **meta}
    metrics = sorted((case_dir / "runs").glob("*/metrics.jsonl"))
    if meta["rc"] != 0 or not metrics:
        out["error"] = (case_dir / "job.log").read_text()[-3000:]
        return out
    rows = [json.loads(line) for line in metrics[-1].read_text().splitlines() if line.strip()]
    config = (metrics[-1].parent / "config.yaml")
    measured = rows[SKIP:] if len(rows) > SKIP else rows
    seconds = [r["seconds"] for r in measured]
    overhead = [r["timings"]["engine_overhead"] for r in measured]
    timing_keys = sorted({k for r in measured for k in r["timings"]})
    calls_file = case_dir / "call_bytes.json"
    by_call: dict[str, float] = {}
    attribution_ok = None
    if calls_file.exists():
        per_gen = {g["generation"]: g for g in json.loads(calls_file.read_text())["per_generation"]}
        gens = [per_gen[r["generation"]] for r in measured if r["generation"] in per_gen]
        names = sorted({n for g in gens for n in g["bytes"]})
        by_call = {n: mean([g["bytes"].get(n, 0) for g in gens]) for n in names}
        attribution_ok = all(sum(g["bytes"].values()) == g["driver_bytes"] for g in per_gen.values())
    import yaml

    cfg = yaml.safe_load(config.read_text()) if config.exists() else {}
    out.update({
        "run_dir": (str(metrics[-1].parent.relative_to(REPO)) if metrics[-1].is_relative_to(REPO)
                    else str(metrics[-1].parent)),
        "population": cfg.get("evolution", {}).get("population_size"),
        "num_actors": cfg.get("evolution", {}).get("num_actors"),
        "model": {k: cfg.get("model", {}).get(k) for k in ("width", "latent_dim", "options")},
        "image": [cfg.get("data", {}).get("channels"), cfg.get("data", {}).get("resolution")],
        "steps_per_generation": cfg.get("train", {}).get("steps_per_generation"),
        "batch_size": cfg.get("train", {}).get("batch_size"),
        "generations": len(rows),
        "measured_generations": [r["generation"] for r in measured],
        "generation0_seconds": round(rows[0]["seconds"], 3),
        "seconds_per_generation": round(mean(seconds), 3),
        "seconds_min": round(min(seconds), 3),
        "seconds_max": round(max(seconds), 3),
        "generations_per_hour": round(3600 / mean(seconds), 1),
        "engine_overhead_s": round(mean(overhead), 3),
        "overhead_share": round(sum(overhead) / sum(seconds), 4),
        "timings_mean": {k: round(mean([r["timings"].get(k, 0.0) for r in measured]), 3) for k in timing_keys},
        "busiest_actor_mean": {k: round(mean([max((a.get("busy", {}).get(k, 0.0) for a in r["actors"]), default=0.0)
                                              for r in measured]), 3)
                               for k in sorted({k for r in measured for a in r["actors"] for k in a.get("busy", {})})},
        "driver_bytes_mean": round(mean([r["driver_bytes"] for r in measured])),
        "driver_bytes_max_all_generations": max(r["driver_bytes"] for r in rows),
        "driver_bytes_by_call_mean": {k: round(v) for k, v in sorted(by_call.items(), key=lambda kv: -kv[1])},
        "driver_bytes_attribution_matches_rows": attribution_ok,
        "per_generation": [{"generation": r["generation"], "seconds": round(r["seconds"], 3),
                            "engine_overhead": round(r["timings"]["engine_overhead"], 3),
                            "driver_bytes": r["driver_bytes"]} for r in rows],
        "nodes": len({a["node_id"] for r in rows for a in r["actors"]}),
        "actors_last_generation": [{k: a[k] for k in ("shard", "node_id", "pid")} for a in rows[-1]["actors"]],
    })
    return out


def targets(cases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def ok(name):
        return name in cases and "error" not in cases[name]

    t: dict[str, Any] = {}
    if ok("cluster_pop32"):
        c = cases["cluster_pop32"]
        non_scalar = {k: v for k, v in c["driver_bytes_by_call_mean"].items() if k == "samples"}
        t["driver_bytes_pop32"] = {"target": f"< {TARGETS['driver_bytes_pop32']} bytes per generation",
                                   "value": c["driver_bytes_max_all_generations"],
                                   "met": c["driver_bytes_max_all_generations"] < TARGETS["driver_bytes_pop32"],
                                   "scalars_only": not non_scalar,
                                   "non_scalar_bytes_mean": non_scalar}
    for name, key in (("thesis", "overhead_thesis"), ("thesis_steps40", "overhead_thesis"),
                      ("default", "overhead_small")):
        if ok(name):
            t[f"{key} ({name})"] = {"target": f"<= {TARGETS[key]:.0%}", "value": cases[name]["overhead_share"],
                                    "met": cases[name]["overhead_share"] <= TARGETS[key]}
    for name in ("cluster_pop8", "cluster_pop16", "cluster_pop32", "local_1actor", "local_2actors"):
        if ok(name):
            t[f"overhead_small ({name})"] = {"target": f"<= {TARGETS['overhead_small']:.0%}",
                                             "value": cases[name]["overhead_share"],
                                             "met": cases[name]["overhead_share"] <= TARGETS["overhead_small"]}
    for what, (one, two) in SPEEDUP_PAIRS.items():
        if ok(one) and ok(two):
            speedup = cases[two]["generations_per_hour"] / cases[one]["generations_per_hour"]
            capacity = [cases[n]["load"].get("parallel_capacity", {}).get("capacity") for n in (one, two)]
            t[f"actor_speedup ({what})"] = {"target": f">= {TARGETS['actor_speedup']}x", "value": round(speedup, 2),
                                            "met": speedup >= TARGETS["actor_speedup"],
                                            "parallel_capacity_before_each": capacity}
    return t


def table(cases: dict[str, dict[str, Any]]) -> str:
    lines = ["| case | population | actors (nodes) | s / generation | generations / h | engine overhead s (share) "
             "| driver bytes / generation (max) | load before / during | parallel capacity |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in [c.name for c in CASES if c.name in cases]:
        c = cases[name]
        if "error" in c:
            lines.append(f"| {name} | failed (rc {c['rc']}) | | | | | | | |")
            continue
        lines.append(
            f"| {name} | {c['population']} | {c['num_actors']} ({c['nodes']}) | {c['seconds_per_generation']:.2f} "
            f"| {c['generations_per_hour']:.0f} | {c['engine_overhead_s']:.2f} ({c['overhead_share']:.1%}) "
            f"| {c['driver_bytes_mean']:,} ({c['driver_bytes_max_all_generations']:,}) "
            f"| {c['load']['at_start']:.1f} / {c['load']['during']['mean']:.1f} "
            f"| {c['load'].get('parallel_capacity', {}).get('capacity', '-')} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", default=",".join(GROUPS), help=f"comma-separated, of {GROUPS}")
    parser.add_argument("--cases", default="", help=f"comma-separated case names (overrides --groups): {list(BY_NAME)}")
    parser.add_argument("--generations", type=int, default=0,
                        help="override every case's generations (0: the configs')")
    parser.add_argument("--smoke", action="store_true", help="2 generations of the small cases only")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="where the runs go")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON (merged into when it exists)")
    parser.add_argument("--cache-dir", default=None, help="metrics.cache_dir for every run (default: evogan's)")
    parser.add_argument("--max-load", type=float, default=3.0, help="wait before a case while the 1-min load is above")
    parser.add_argument("--max-wait", type=float, default=600.0,
                        help="longest wait for the load, seconds, over all cases together")
    parser.add_argument("--min-capacity", type=float, default=0.0,
                        help="also wait (within --max-wait) until the parallel capacity is at least this")
    parser.add_argument("--timeout", type=float, default=1800.0, help="per case, seconds")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    if argv[:1] == ["_job"]:
        return job_main(argv[1:])
    if argv[:1] == ["_cluster"]:
        return cluster_main(argv[1:])
    args = parse_args(argv)
    if args.smoke:
        args.generations = args.generations or 2
        args.cases = args.cases or "cluster_pop8,local_1actor,local_2actors"
    names = args.cases.split(",") if args.cases else [c.name for c in CASES if c.group in args.groups.split(",")]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        sys.exit(f"unknown case(s) {unknown}; known: {list(BY_NAME)}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = args.root.resolve() / stamp
    selected = [BY_NAME[n] for n in names]

    local = [c for c in selected if c.where == "local"]
    cluster = [c for c in selected if c.where == "cluster"]
    for case in local:
        run_case(case, root / case.name, args)
    if cluster:
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        command = ["bash", str(CLUSTER_SCRIPT), sys.executable, str(Path(__file__).resolve()), "_cluster",
                   "--cases", ",".join(c.name for c in cluster), "--root", str(root),
                   "--max-load", str(args.max_load), "--max-wait", str(max(0.0, args.max_wait - WAITED[0])),
                   "--min-capacity", str(args.min_capacity), "--timeout", str(args.timeout)]
        if args.generations:
            command += ["--generations", str(args.generations)]
        if args.cache_dir:
            command += ["--cache-dir", args.cache_dir]
        print(f"cluster: {' '.join(command)}", flush=True)
        root.mkdir(parents=True, exist_ok=True)
        with (root / "cluster.log").open("w") as log:
            rc = subprocess.run(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                timeout=len(cluster) * (args.timeout + args.max_wait) + 600).returncode
        if rc != 0:
            print(f"scripts/local_cluster.sh exited {rc}; see {root / 'cluster.log'}", flush=True)
        for case in cluster:
            if not (root / case.name / "meta.json").exists():
                (root / case.name).mkdir(parents=True, exist_ok=True)
                (root / case.name / "meta.json").write_text(json.dumps({"case": case.name, "rc": f"cluster {rc}"}))
                (root / case.name / "job.log").write_text((root / "cluster.log").read_text())

    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    cases = results.get("cases", {})
    for case in selected:
        cases[case.name] = summarise(case, root / case.name)
    results = {
        "benchmark": "benchmarks/scaling.py",
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "python": platform.python_version()},
        "skip_generations": SKIP,
        "targets": {},
        "cases": {n: cases[n] for n in [c.name for c in CASES] if n in cases},
    }
    if (root / "cluster_nodes.json").exists():
        results["cluster_nodes"] = json.loads((root / "cluster_nodes.json").read_text())
    elif "cluster_nodes" in (old := json.loads(args.out.read_text()) if args.out.exists() else {}):
        results["cluster_nodes"] = old["cluster_nodes"]
    results["targets"] = targets(results["cases"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results["cases"]))
    for name, t in results["targets"].items():
        print(f"{name}: {t['value']} (target {t['target']}): {'met' if t['met'] else 'MISSED'}")
    return 0 if all("error" not in cases[c.name] for c in selected) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
