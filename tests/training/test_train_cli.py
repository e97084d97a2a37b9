"""``python -m evogan.train``: a few dozen real steps write a GA-GAN-style run directory whose
best.pt is a generator checkpoint; bad input exits 2 with one line before any work."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from evogan.io.checkpoint import load_checkpoint, load_generator
from evogan.train import main

TINY = ["data.num_samples=512", "data.holdout=64", "data.resolution=28", "model.width=8", "model.latent_dim=16",
        "train.batch_size=16", "fitness.eval_samples=64", "metrics.real_samples=256", "metrics.report_samples=64",
        "metrics.kid=false", "trainer.steps=30", "trainer.eval_every=10", "trainer.torch_threads=1", "device=cpu"]


@pytest.fixture
def tiny(tmp_path):
    return TINY + [f"output.root={tmp_path / 'runs'}", f"metrics.cache_dir={tmp_path / 'cache'}"]


def test_trainer_writes_a_run_directory_with_best_pt(tmp_path, tiny, capsys):
    assert main(tiny + ["trainer.balancer.enabled=true", "trainer.balancer.act_every=5",
                        "trainer.balancer.probe_samples=32", "trainer.balancer.learn_start=2",
                        "trainer.balancer.batch_size=2"]) == 0
    out = capsys.readouterr().out
    assert sum(line.startswith("step ") for line in out.splitlines()) == 3 and "fid_domain_64" in out
    (run,) = (tmp_path / "runs").iterdir()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [10, 20, 30]
    assert all(r["balancer_decisions"] == 2 for r in rows)
    for name in ("config.yaml", "trainer.yaml", "summary.json", "checkpoints/best.pt", "checkpoints/latest.pt",
                 "samples/step_000010.png", "samples/step_000030.png", "plots/quality.png",
                 "report/index.html"):
        assert (run / name).is_file(), name
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    best = load_checkpoint(run / "checkpoints" / "best.pt", kind="generator")
    assert best["fid"] == pytest.approx(min(r["fid"] for r in rows))
    variant, modules, config = load_generator(run)  # a run directory resolves to its best.pt
    assert config.model.variant == "dcgan" and sum(p.numel() for p in modules.parameters()) > 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["evaluations"] == 3 and summary["final_metrics"]


def test_resume_extends_a_run(tmp_path, tiny):
    assert main(tiny + ["trainer.steps=10"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert main(["--resume", str(run), "trainer.steps=20"]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [10, 20] and [r["generation"] for r in rows] == [0, 1]


def test_bad_input_exits_2_with_one_line_from_the_shell(tmp_path):
    result = subprocess.run([sys.executable, "-m", "evogan.train", f"output.root={tmp_path / 'runs'}",
                             "trainer.stepz=3"], capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "trainer.stepz: unknown key" in lines[0], result.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("override, message", [
    ("model.variant=nope", "model.variant: must be one of"),
    ("trainer.balancer.gamma=1.5", "trainer.balancer.gamma: must be in [0, 1)"),
    ("data.name=mnist", "data.root: dataset mnist needs a root directory"),
])
def test_bad_input_returns_2_before_work(tmp_path, capsys, override, message):
    assert main([f"output.root={tmp_path / 'runs'}", override]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "runs").exists()
