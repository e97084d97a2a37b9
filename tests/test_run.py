"""End to end on real Ray: `python -m evogan.run` with 2 population actors, outputs, resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from evogan import run
from evogan.io.checkpoint import load_generator
from evogan.io.population_checkpoint import read_latest_manifest, read_shard
from evogan.io.storage import Storage


def _only_run(root: Path) -> Path:
    (run_dir,) = [p for p in root.iterdir() if p.is_dir()]
    return run_dir


@pytest.mark.slow
def test_two_generations_on_two_actors_write_every_output(ray_local, tiny_overrides, tmp_path):
    assert run.main(tiny_overrides + ["output.tensorboard=true"]) == 0
    run_dir = _only_run(tmp_path / "runs")
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in rows] == [0, 1]
    assert rows[0]["metric"] == "fid_domain_64"
    assert sorted(r["population"] for r in rows[0]["individuals"]) == ["d"] * 4 + ["g"] * 4
    assert {r["slot"] % 2 for r in rows[0]["individuals"]} == {0, 1}
    assert rows[1]["lineage"] and rows[1]["elites"] == {"g": [rows[1]["elites"]["g"][0]],
                                                        "d": [rows[1]["elites"]["d"][0]]}
    for key in ("best_fid", "mean_fid", "best_fool_rate", "best_d_accuracy", "best_real_score", "best_fake_score",
                "best_loss_g", "best_loss_d"):
        assert key in rows[-1]["population"]
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == ["gen_0000.png", "gen_0001.png"]
    assert {p.name for p in (run_dir / "plots").iterdir()} == {"scores.png", "losses.png", "quality.png",
                                                               "mode_coverage.png"}
    assert any((run_dir / "tensorboard").iterdir())
    assert (run_dir / "config.yaml").is_file()
    manifest = read_latest_manifest(Storage(run_dir))
    assert manifest["generation"] == 1 and [e["shard"] for e in manifest["shards"]] == [0, 1]
    population = [read_shard(Storage(run_dir), e) for e in manifest["shards"]]
    assert sorted(len(p[side]) for p in population for side in ("g", "d")) == [2, 2, 2, 2]
    assert [a["shard"] for a in rows[-1]["actors"]] == [0, 1]
    assert {"breed", "train", "score", "outputs", "checkpoint"} <= rows[-1]["timings"].keys()
    variant, modules, config = load_generator(run_dir)
    assert config.model.width == 8
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["generations"] == 2
    final = summary["final_metrics"]
    assert {"fid_domain_64", "mixture_fid_domain_64", "kid_domain_64", "mixture_kid_domain_64"} <= final.keys()
    # (the tiny run's classifier sees 512 images for 8 batches: rarely confident, so no count is asserted)
    assert all(0 <= final[f"modes_{source}"] <= 8 for source in ("real", "best", "mixture"))
    mixture = summary["mixture"]
    counts = summary["mode_coverage"]["counts"]
    assert list(counts) == ["real", "best", "mixture"] and [sum(c) for c in counts.values()] == [64, 64, 64]
    assert sum(mixture["weights"].values()) == pytest.approx(1.0)
    assert mixture["fid"] <= min(mixture["single_fids"].values())  # on the pools the ES searched
    payload = torch.load(run_dir / "checkpoints" / "mixture.pt", weights_only=True)
    assert payload["kind"] == "mixture" and len(payload["members"]) == len(payload["weights"])
    assert {"format", "config", "image_shape", "fid", "metric"} <= payload.keys()
    assert [str(m["uid"]) for m in payload["members"]] == [u for u, w in mixture["weights"].items() if w > 0]


@pytest.mark.slow
def test_seed_population_from_a_mixture_starts_from_its_heaviest_member(ray_local, tiny_overrides, tmp_path):
    from evogan.config import to_dict
    from evogan.io.population_checkpoint import write_mixture
    from evogan.validation import load
    from tests.evolution.test_mixture import tiny_engine

    engine, backend = tiny_engine()
    states = backend.state("g")["g"]
    members = [{k: v for k, v in states[slot].items() if k != "optimizers"} for slot in (0, 1)]
    write_mixture(Storage(tmp_path / "seed"), [0.3, 0.7], members,
                  {"config": to_dict(load(None, tiny_overrides)), "image_shape": [1, 28, 28], "fid": 1.0,
                   "metric": "fid_domain_64"})
    path = tmp_path / "seed" / "checkpoints" / "mixture.pt"
    assert run.main(["--seed-population", str(path), *tiny_overrides, "evolution.generations=1",
                     "train.steps_per_generation=0", "mixture.enabled=false"]) == 0
    run_dir = _only_run(tmp_path / "runs")
    storage = Storage(run_dir)
    generators = [m for e in read_latest_manifest(storage)["shards"] for m in read_shard(storage, e)["g"].values()]
    assert len(generators) == 4
    for generator in generators:  # no Adam steps: every G still holds the heaviest member's weights
        differ = [k for k, t in generator["modules"].items() if not torch.equal(t, members[1]["modules"][k])
                  and not k.endswith("num_batches_tracked")]  # (sampling in batch-statistics mode counts batches)
        assert differ == [], differ
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "mixture" not in summary and "mixture_fid_domain_64" not in summary["final_metrics"]
    assert "modes_best" in summary["final_metrics"]  # mode coverage does not need the mixture


def _population_tensors(storage: Storage) -> dict:
    manifest = read_latest_manifest(storage)
    return {(side, slot, m["uid"], name): t for entry in manifest["shards"]
            for side, by_slot in read_shard(storage, entry).items()
            for slot, m in by_slot.items() for name, t in m["modules"].items()}


def _metric_rows(run_dir: Path) -> list:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [[(r["population"], r["uid"], r.get("fid"), r.get("d_accuracy")) for r in row["individuals"]]
            for row in rows]


@pytest.mark.slow
def test_interrupted_then_resumed_equals_uninterrupted(ray_local, tiny_overrides, tmp_path, monkeypatch):
    straight = tiny_overrides + ["evolution.generations=3", f"output.root={tmp_path / 'straight'}"]
    assert run.main(straight) == 0
    store = tmp_path / "store"
    first = tiny_overrides + ["evolution.generations=2", f"output.root={tmp_path / 'resumed'}",
                              f"output.storage=file://{store}"]
    assert run.main(first) == 0
    resumed_dir = _only_run(tmp_path / "resumed")
    assert not (resumed_dir / "checkpoints" / "latest.json").exists()  # checkpoints live on the storage URI
    with (resumed_dir / "metrics.jsonl").open("a") as handle:
        handle.write('{"generation": 2, "torn')  # a crash mid-write must not break resuming
    assert run.main(["--resume", str(resumed_dir), "evolution.generations=3"]) == 0
    straight_dir = _only_run(tmp_path / "straight")
    a, b = _population_tensors(Storage(straight_dir)), _population_tensors(Storage(store / resumed_dir.name))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert _metric_rows(straight_dir) == _metric_rows(resumed_dir)
    assert (store / resumed_dir.name / "metrics.jsonl").is_file()  # the run directory is mirrored


@pytest.mark.slow
def test_a_dead_population_actor_is_recovered_alone(ray_local, tiny_overrides, tmp_path, monkeypatch):
    """Kill actor 1 after generation 1: only it is recreated (from its shard of generation 1) and
    redoes generation 2 for its own members; the result equals an uninterrupted run."""
    from evogan.io.reporter import RunReporter

    straight = tiny_overrides + ["evolution.generations=4", f"output.root={tmp_path / 'straight'}"]
    assert run.main(straight) == 0
    report, killed = RunReporter.__call__, []

    def report_then_kill(self, summary, engine):
        report(self, summary, engine)
        if summary["generation"] == 1 and not killed:
            killed.append(True)
            ray_local.kill(self.backend.actors[1])

    monkeypatch.setattr(RunReporter, "__call__", report_then_kill)
    assert run.main(tiny_overrides + ["evolution.generations=4", f"output.root={tmp_path / 'killed'}"]) == 0
    killed_dir, straight_dir = _only_run(tmp_path / "killed"), _only_run(tmp_path / "straight")
    rows = [json.loads(line) for line in (killed_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in rows] == [0, 1, 2, 3]  # none missing or repeated
    assert [r["recovered"] for r in rows] == [[], [], [1], []]
    pids = [{a["shard"]: a["pid"] for a in r["actors"]} for r in rows]
    assert len({p[0] for p in pids}) == 1  # actor 0 was never restarted
    assert pids[1][1] != pids[2][1] == pids[3][1]  # actor 1 was, once
    assert _metric_rows(killed_dir) == _metric_rows(straight_dir)
    a, c = _population_tensors(Storage(straight_dir)), _population_tensors(Storage(killed_dir))
    assert c.keys() == a.keys() and all(torch.equal(a[k], c[k]) for k in a)


def test_resume_rejects_bad_directories(tmp_path):
    for argv in (["--resume", str(tmp_path / "missing")], ["--resume", str(tmp_path)]):
        result = subprocess.run([sys.executable, "-m", "evogan.run", *argv], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert str(tmp_path) in result.stderr
    run_dir = tmp_path / "0001-dcgan-shapes"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "config.yaml").write_text("seed: 0\n")
    (run_dir / "checkpoints" / "latest.json").write_bytes(b"corrupt")
    result = subprocess.run([sys.executable, "-m", "evogan.run", "--resume", str(run_dir)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "no complete checkpoint" in result.stderr
