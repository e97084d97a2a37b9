"""The quality-per-compute benchmark with ``--variant``: a seed variant trained alone (c) and as
the memetic step of coevolution (a) at equal compute, on real Ray and real (tiny) models."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "quality_per_compute.py"


def run_script(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *flags], capture_output=True, text=True, timeout=600)


def test_a_variant_trains_alone_and_as_the_memetic_step_at_equal_steps(tmp_path):
    result = run_script("--smoke", "--arms", "memetic", "single", "--variant", "cft_mr_edge",
                        "--model-option", "feature_dim=2", "--lr", "1e-3", "--storage-path", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    [results] = tmp_path.glob("quality_per_compute-smoke-*/results")
    summary = json.loads((results / "quality_per_compute_smoke.json").read_text())
    assert summary["errors"] == []
    assert summary["variant"] == "cft_mr_edge" and summary["model_options"] == {"feature_dim": 2}
    records = {r["arm"]: r for r in summary["records"]}
    assert set(records) == {"memetic", "single"}
    assert {r["variant"] for r in records.values()} == {"cft_mr_edge"}  # what actually trained
    assert summary["lr"] == {"lr_g": 1e-3, "lr_d": 1e-3}
    assert records["single"]["final"]["hp"] == {"lr_g": 1e-3, "lr_d": 1e-3}
    assert records["memetic"]["adam_steps"] == records["single"]["adam_steps"] > 0
    table = summary["aggregate"]["table"]["full"]
    assert {"memetic", "single"} <= set(table)
    assert all(math.isfinite(table[arm]["mean"]) for arm in ("memetic", "single"))
    assert "(c) one cft_mr_edge, N*G*S steps" in (results / "quality_per_compute_smoke.md").read_text()


@pytest.mark.parametrize("flags, culprit", [
    (["--variant", "no_such_variant"], "model.variant"),
    (["--model-option", "feature_dim"], "--model-option"),
    (["--lr", "0"], "train.lr_g"),
])
def test_bad_variant_flags_exit_2_with_one_line(flags, culprit, tmp_path):
    result = run_script("--smoke", "--storage-path", str(tmp_path), *flags)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and culprit in lines[0], result.stderr
    assert not any(tmp_path.iterdir())  # nothing created before the error
