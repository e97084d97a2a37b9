"""A real two-node Ray cluster on this machine: `ray job submit` of a small run, then faults.

Each test starts its own cluster with ``scripts/local_cluster.sh`` (head + a second node, each
with its own temp dir, loopback only, token auth on, inside their own PID/mount/network
namespaces), runs ``tests/cluster/scenario.py`` inside it (submit, inject the fault, record) and
judges the outputs here. The cluster is torn down whatever happens (see the script). Needs root
or CAP_SYS_ADMIN for the namespaces: elsewhere the tests skip and say why, unless
EVOGAN_REQUIRE_CLUSTER_TESTS=1 makes that a failure.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import TINY

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "local_cluster.sh"
TIMEOUT_S = 600  # per test: cluster start, job, fault, teardown (80 s on an idle 2-core VM, 165 s at load 20)
GENERATIONS = 5
ACTORS = 2
FAULT_AFTER = 2  # rows (generations) written before the fault; the others are still to come

# TINY on 2 population actors of 1 CPU each, spread one per node (each node has 2 CPUs, so after
# node2 is gone both fit on the head); enough Adam steps that a generation outlasts the fault.
RUN = [o for o in TINY if o.split("=")[0] not in {"ray.num_cpus", "ray.actor_num_cpus", "ray.dashboard",
                                                  "evolution.num_actors", "evolution.generations",
                                                  "train.steps_per_generation"}] + [
    f"evolution.num_actors={ACTORS}", f"evolution.generations={GENERATIONS}", "train.steps_per_generation=20",
    "ray.actor_num_cpus=1", "ray.placement=SPREAD"]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # this env's python and ray
    return env


@pytest.fixture(scope="module")
def cluster_support():
    done = subprocess.run(["bash", str(SCRIPT), "--check"], capture_output=True, text=True, env=_environment(),
                          stdin=subprocess.DEVNULL, timeout=60)
    if done.returncode != 0:
        reason = f"no local two-node cluster here: {(done.stdout + done.stderr).strip()}"
        if os.environ.get("EVOGAN_REQUIRE_CLUSTER_TESTS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def feature_cache(tmp_path_factory):
    """One domain-feature cache for the module: the network trains once, not once per test."""
    return tmp_path_factory.mktemp("feature-cache")


def run_scenario(out: Path, cache: Path, fault: str | None = None) -> dict:
    """Cluster up, scenario, cluster down; returns result.json plus the output dir, job log and seconds."""
    argv = ["bash", str(SCRIPT), sys.executable, str(REPO / "tests" / "cluster" / "scenario.py"), "--out", str(out),
            "--timeout", str(TIMEOUT_S - 120)]
    if fault:
        argv += ["--fault", fault, "--after", str(FAULT_AFTER)]
    argv += ["--", *RUN, f"metrics.cache_dir={cache}"]
    env = {**_environment(), "LOCAL_CLUSTER_LOGS": str(out / "ray-logs")}
    started = time.monotonic()
    with (out.parent / f"{out.name}-cluster.log").open("w") as log:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # the script's trap runs `ray stop`
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # kills the namespace, and every process in it
                proc.wait()
            pytest.fail(f"cluster scenario took over {TIMEOUT_S}s; logs under {out}")
    seconds = time.monotonic() - started
    log_text = (out.parent / f"{out.name}-cluster.log").read_text()
    assert rc == 0, f"scripts/local_cluster.sh exited {rc}:\n{log_text[-4000:]}"
    result = json.loads((out / "result.json").read_text())
    print(f"{fault or 'plain'}: {seconds:.0f}s in all, job {result['job_seconds']}s")
    return {**result, "out": out, "job_log": (out / "job.log").read_text(), "seconds": seconds}


def run_dir_of(result: dict, hint: str = "") -> Path:
    """The run directory of a job that succeeded."""
    assert result["job_rc"] == 0, (f"the job failed{hint} (Ray logs under {result['out'] / 'ray-logs'}):\n"
                                   f"{result['job_log'][-6000:]}")
    (run_dir,) = [p for p in (result["out"] / "runs").iterdir() if p.is_dir()]
    return run_dir


def assert_complete(run_dir: Path, job_log: str) -> list[dict]:
    """Every output of the run is there, with one metrics row per generation, none missing or repeated."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in rows] == list(range(GENERATIONS))
    progress = re.findall(rf"^gen\s+(\d+)/{GENERATIONS}\b", job_log, flags=re.M)
    assert progress == [str(g + 1) for g in range(GENERATIONS)], progress  # each generation reported once
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["generations"] == GENERATIONS and summary["final_metrics"]
    assert sorted(p.name for p in (run_dir / "samples").glob("gen_*.png")) == [
        f"gen_{g:04d}.png" for g in range(GENERATIONS)]
    assert {p.name for p in (run_dir / "plots").glob("*.png")} >= {"scores.png", "losses.png", "quality.png"}
    assert (run_dir / "checkpoints" / "best.pt").is_file() and (run_dir / "config.yaml").is_file()
    return rows


def population_actors(result: dict) -> list[dict]:
    return [a for a in result["actors"] if a["class_name"] == "PopulationActor"]


def lost_helpers(result: dict) -> str:
    """Why a job may have died with node2 beyond its population actors: helpers that lived there."""
    elsewhere = sorted({a["class_name"] for a in result["actors"]
                        if a["class_name"] != "PopulationActor" and a["node_id"] == result["node2_id"]})
    return f"; on node2, besides population actors: {elsewhere}" if elsewhere else ""


def shard_placements(rows: list[dict]) -> list[dict[int, tuple[int, str]]]:
    """Per metrics row: shard -> (pid, node id) of the population actor that held it."""
    return [{a["shard"]: (a["pid"], a["node_id"]) for a in row["actors"]} for row in rows]


def test_job_runs_population_actors_on_both_nodes_and_writes_every_output(cluster_support, feature_cache, tmp_path):
    result = run_scenario(tmp_path / "plain", feature_cache)
    assert_complete(run_dir_of(result), result["job_log"])
    actors = population_actors(result)
    assert len(actors) == ACTORS and all(a["num_restarts"] == 0 for a in actors), actors
    assert {a["node_id"] for a in actors} == {result["head_id"], result["node2_id"]}, actors


def first_change(places: list[dict[int, tuple[int, str]]], shards: set[int]) -> int:
    """Index of the first metrics row in which one of these shards is held by another process."""
    return next(i for i, p in enumerate(places) if any(p[s] != places[0][s] for s in shards))


def test_killed_population_actor_is_replaced_alone(cluster_support, feature_cache, tmp_path):
    result = run_scenario(tmp_path / "kill", feature_cache, fault="kill_actor")
    fault = result["fault"]
    assert "killed" in fault, fault
    assert fault["job_running"] and FAULT_AFTER <= fault["rows_before"] < GENERATIONS, fault  # mid-run
    rows = assert_complete(run_dir_of(result), result["job_log"])

    # one more population actor process than shards: the killed one's replacement, nobody else's
    actors = population_actors(result)
    assert sum(1 + a["num_restarts"] for a in actors) == ACTORS + 1, actors

    # metrics rows say which process held each shard, and which shards were recovered
    places, killed = shard_placements(rows), fault["killed"]
    (shard,) = [s for s, holder in places[0].items() if holder == (killed["pid"], killed["node_id"])]
    replaced = first_change(places, {shard})
    assert fault["rows_before"] <= replaced, (fault, places)  # the generation the kill hit, or (late kill) the next
    assert all(p[shard] == places[replaced][shard] for p in places[replaced:]), places  # replaced once
    for other in set(places[0]) - {shard}:  # the other actors were never restarted
        assert all(p[other] == places[0][other] for p in places), (other, places)
    recovered = [(r["generation"], r["recovered"]) for r in rows if r["recovered"]]
    assert recovered == [(replaced, [shard])], recovered


def test_stopped_second_node_run_completes_on_head(cluster_support, feature_cache, tmp_path):
    result = run_scenario(tmp_path / "stop", feature_cache, fault="stop_node2")
    fault, head, node2 = result["fault"], result["head_id"], result["node2_id"]
    assert fault["stop_rc"] == 0, fault
    assert fault["job_running"] and FAULT_AFTER <= fault["rows_before"] < GENERATIONS, fault  # mid-run
    assert {n["node_id"]: n["state"] for n in result["nodes_at_end"]} == {head: "ALIVE", node2: "DEAD"}
    rows = assert_complete(run_dir_of(result, lost_helpers(result)), result["job_log"])

    before = {a["actor_id"] for a in fault["population_actors_before"]}
    assert any(a["node_id"] == node2 for a in fault["population_actors_before"]), "no population actor on node2"
    replacements = [a for a in population_actors(result) if a["actor_id"] not in before]
    assert all(a["node_id"] == head for a in replacements), replacements

    places = shard_placements(rows)
    lost = {s for s, (_, node) in places[0].items() if node == node2}
    assert lost, places
    moved = first_change(places, lost)
    assert fault["rows_before"] <= moved, (fault, places)
    assert all(node == node2 for p in places[:moved] for s, (_, node) in p.items() if s in lost), places
    assert all({node for _, node in p.values()} == {head} for p in places[moved:]), places  # on the head from then on
    for kept in set(places[0]) - lost:  # the head's actors carried on
        assert all(p[kept] == places[0][kept] for p in places), (kept, places)
    recovered = [(r["generation"], r["recovered"]) for r in rows if r["recovered"]]
    assert recovered == [(moved, sorted(lost))], recovered
