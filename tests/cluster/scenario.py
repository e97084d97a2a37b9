"""Driver steps of the two-node cluster tests; runs inside ``scripts/local_cluster.sh``.

    bash scripts/local_cluster.sh python tests/cluster/scenario.py --out DIR [--fault kill_actor|stop_node2] \
        [--after ROWS] -- OVERRIDES...

Submits ``python -m evogan.run OVERRIDES output.root=DIR/runs`` with ``ray job submit --working-dir .``
(run it from the repository root), optionally injects a fault once the run has written ROWS
metrics rows, waits for the job, then writes ``DIR/result.json``: the job's exit status, the fault
(what was killed or stopped, when, how many rows existed then), the cluster's nodes and every
actor the state API knows (class, node, pid, restarts, death cause). ``DIR/job.log`` holds the
job's output. The tests judge; this script only records (exit 0 unless it could not do its part).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

DASHBOARD = os.environ.get("LOCAL_CLUSTER_DASHBOARD", "")
SCRIPT = os.environ.get("LOCAL_CLUSTER_SCRIPT", "")


def metrics_rows(runs: Path) -> int:
    """Complete lines in the (single) run directory's metrics.jsonl, 0 before it exists."""
    for path in runs.glob("*/metrics.jsonl"):
        return path.read_bytes().count(b"\n")
    return 0


def wait_for_rows(runs: Path, rows: int, job: subprocess.Popen, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and job.poll() is None:
        if (n := metrics_rows(runs)) >= rows:
            return n
        time.sleep(0.1)
    return metrics_rows(runs)


def nodes() -> list[dict]:
    from ray.util.state import list_nodes

    return [{"node_id": n.node_id, "is_head": n.is_head_node, "state": n.state,
             "resources": n.resources_total} for n in list_nodes(address=DASHBOARD, detail=True,
                                                                 raise_on_missing_output=False)]


def actors(state: str | None = None) -> list[dict]:
    from ray.util.state import list_actors

    filters = [("state", "=", state)] if state else None
    return [{"class_name": a.class_name, "actor_id": a.actor_id, "state": a.state, "pid": a.pid,
             "node_id": a.node_id, "num_restarts": int(a.num_restarts or 0), "job_id": a.job_id,
             "death_cause": str(a.death_cause)[:500] if a.death_cause else None}
            for a in list_actors(address=DASHBOARD, filters=filters, detail=True, limit=1000,
                                 raise_on_missing_output=False)]


def on_node2(*command: str) -> subprocess.CompletedProcess:
    """Run a command in node2's PID namespace (its processes' pids are numbered there)."""
    return subprocess.run(["bash", SCRIPT, "--on-node2", *command], capture_output=True, text=True, timeout=120)


def pick_population_actor(alive: list[dict], node2_id: str) -> dict | None:
    """The PopulationActor to kill: node2's, if it holds one."""
    return next((a for a in alive if a["node_id"] == node2_id), alive[0]) if alive else None


def kill_population_actor(target: dict | None, node2_id: str) -> dict:
    """SIGKILL the actor's process, in its node's PID namespace."""
    if target is None:
        return {"error": "no live PopulationActor"}
    if target["node_id"] == node2_id:
        done = on_node2("kill", "-KILL", str(target["pid"]))
        if done.returncode != 0:
            return {"error": f"kill on node2 failed: {done.stderr}", "target": target}
    else:
        os.kill(target["pid"], signal.SIGKILL)
    return {"killed": target}


def stop_node2() -> dict:
    done = on_node2("ray", "stop", "--log-style", "record", "-g", "20")
    return {"stop_rc": done.returncode, "stop_output": (done.stdout + done.stderr)[-2000:]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--fault", choices=["kill_actor", "stop_node2"])
    parser.add_argument("--after", type=int, default=2, help="inject the fault once this many metrics rows exist")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the job")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    if not DASHBOARD or not SCRIPT:
        sys.exit("scenario.py runs inside scripts/local_cluster.sh")
    out = args.out.resolve()
    runs = out / "runs"
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {"nodes_at_start": nodes()}
    node2_id = next(n["node_id"] for n in result["nodes_at_start"] if "node2" in n["resources"])
    head_id = next(n["node_id"] for n in result["nodes_at_start"] if n["is_head"])
    result.update(head_id=head_id, node2_id=node2_id)

    submission_id = f"evogan-{args.fault or 'plain'}-{int(time.time())}"
    command = ["ray", "job", "submit", "--address", DASHBOARD, "--working-dir", ".",
               "--submission-id", submission_id, "--",
               "python", "-m", "evogan.run", *args.overrides, f"output.root={runs}"]
    result["command"] = command
    started = time.time()
    with (out / "job.log").open("w") as log:
        job = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if args.fault:
            # look the actors up one generation early, so that the fault follows row `after` at once
            wait_for_rows(runs, max(1, args.after - 1), job, args.timeout)
            before = [a for a in actors("ALIVE") if a["class_name"] == "PopulationActor"]
            target = pick_population_actor(before, node2_id) if args.fault == "kill_actor" else None
            rows = wait_for_rows(runs, args.after, job, args.timeout)
            fault = {"kind": args.fault, "rows_before": rows, "job_running": job.poll() is None,
                     "population_actors_before": before}
            fault.update(kill_population_actor(target, node2_id) if args.fault == "kill_actor" else stop_node2())
            fault["rows_after"] = metrics_rows(runs)
            fault["seconds_after_submit"] = round(time.time() - started, 1)
            result["fault"] = fault
        try:
            result["job_rc"] = job.wait(timeout=max(1.0, args.timeout - (time.time() - started)))
        except subprocess.TimeoutExpired:
            job.kill()
            result["job_rc"] = "timeout"
    result["job_seconds"] = round(time.time() - started, 1)
    result["nodes_at_end"] = nodes()
    result["actors"] = actors()
    (out / "result.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
