"""Config: YAML + dotted overrides, type and range checks, exit code 2 from the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from evogan import config as cfg
from evogan import validation
from evogan.config import ConfigError


def test_defaults_validate_and_round_trip():
    config = validation.load()
    assert config.evolution.mode == "memetic"
    assert validation.from_dict(cfg.to_dict(config)) == config


def test_yaml_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("evolution:\n  population_size: 6\n  num_actors: 3\ntrain:\n  lr_g: 0.001\n")
    config = validation.load(path, ["train.lr_d=3e-4", "fitness.objectives=[quality]", "fitness.weights=[1]"])
    assert config.evolution.population_size == 6
    assert config.train.lr_g == pytest.approx(1e-3)
    assert config.train.lr_d == pytest.approx(3e-4)
    assert config.fitness.objectives == ("quality",)


@pytest.mark.parametrize("override, key", [
    ("evolution.population_size=0", "evolution.population_size"),
    ("train.lr_g=-0.1", "train.lr_g"),
    ("evolution.elites=9", "evolution.elites"),
    ("evolution.num_actors=5", "evolution.num_actors"),
    ("train.lr_g=fast", "train.lr_g"),
    ("evolution.population_size=2.5", "evolution.population_size"),
    ("bogus.key=1", "bogus"),
    ("train.bogus=1", "train.bogus"),
    ("model.variant=unknown", "model.variant"),
    ("model.options={extra_layers: -1}", "model.options.extra_layers"),
    ("model.options={nope: 1}", "model.options.nope"),
    ("data.resolution=48", "data.resolution"),
    ("fitness.weights=[1.0]", "fitness.weights"),
    ("data.name=mnist", "data.root"),
    ("evolution.losses=[bce, wasserstein]", "evolution.losses[1]"),
    ("mixture.iterations=-1", "mixture.iterations"),
    ("mixture.offspring=0", "mixture.offspring"),
    ("mixture.samples=8", "mixture.samples"),
    ("mixture.sigma=0", "mixture.sigma"),
    ("mixture.enabled=maybe", "mixture.enabled"),
])
def test_rejects_bad_values_naming_the_key(override, key):
    with pytest.raises(ConfigError) as info:
        validation.load(None, [override])
    assert str(info.value).startswith(key)
    assert "\n" not in str(info.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        validation.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        validation.load(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("3\n")
    with pytest.raises(ConfigError, match="mapping"):
        validation.load(scalar)


def test_yaml_is_loaded_safely(tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("seed: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        validation.load(evil)


@pytest.mark.parametrize("args", [["evolution.population_size=0"], ["--config", "/nonexistent.yaml"],
                                  ["data.name=fashion_mnist", "data.root=/nonexistent/dir"]])
def test_cli_exits_2_with_one_line_before_ray_starts(args, tmp_path):
    result = subprocess.run([sys.executable, "-m", "evogan.run", *args, f"output.root={tmp_path}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())  # no run directory was created
