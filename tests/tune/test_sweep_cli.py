"""``python -m evogan.sweep`` rejects bad sweep configs with exit 2 and one line, before Ray starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BASE = {
    "data": {"num_samples": 512, "holdout": 64, "resolution": 28},
    "model": {"variant": "dcgan", "width": 8, "latent_dim": 16},
    "trainer": {"steps": 8, "eval_every": 4},
    "sweep": {"scheduler": "asha", "num_samples": 2,
              "search_space": {"train.lr_g": {"loguniform": [1.0e-4, 1.0e-3]}}},
}


def run_sweep_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAY_ADDRESS": ""}
    return subprocess.run([sys.executable, "-m", "evogan.sweep", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("overrides, message", [
    (["sweep.search_space.model.variant={grid_search: [dcgan, no_such_gan]}"], "no_such_gan"),
    (["sweep.search_space={}"], "empty search space"),
    (["sweep.asha.reduction_factor=1"], "sweep.asha.reduction_factor: must be > 1"),
    (["sweep.scheduler=pbt", "sweep.pbt.perturbation_interval=1",
      "sweep.search_space={model.latent_dim: {grid_search: [8, 16]}}"],
     "pbt needs a perturbable key"),
])
def test_bad_sweep_config_exits_2_before_ray(tmp_path, overrides, message):
    config = tmp_path / "sweep.yaml"
    config.write_text(yaml.safe_dump(BASE))
    storage = tmp_path / "results"
    result = run_sweep_cli(["--config", str(config), f"sweep.storage_path={storage}", *overrides], tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not storage.exists()  # nothing started, nothing written


def test_export_of_a_non_sweep_directory_exits_2(tmp_path):
    result = run_sweep_cli(["export", str(tmp_path), str(tmp_path / "best.pt")], tmp_path)
    assert result.returncode == 2 and "not an evogan sweep directory" in result.stderr
