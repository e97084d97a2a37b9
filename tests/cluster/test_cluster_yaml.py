"""cluster/gpu.yaml against Ray's own launcher schema, its security settings, and the images' pins."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from ray.autoscaler._private.util import fillout_defaults, validate_config

tomllib = pytest.importorskip("tomllib", reason="Python 3.11+ reads pyproject.toml")

REPO = Path(__file__).resolve().parents[2]
CLUSTER_YAML = REPO / "cluster" / "gpu.yaml"
DOCKERFILES = [REPO / "docker" / "Dockerfile.gpu", REPO / "docker" / "Dockerfile.cpu"]


def launcher_config() -> dict:
    return yaml.safe_load(CLUSTER_YAML.read_text())


def test_gpu_yaml_passes_the_launchers_schema():
    config = fillout_defaults(launcher_config())  # what `ray up` does before validating
    validate_config(config)
    assert config["head_node_type"] in config["available_node_types"]
    assert any(t.get("max_workers", 0) > 0 for t in config["available_node_types"].values())


def test_the_schema_check_is_not_vacuous():
    broken = launcher_config()
    broken["available_node_types"]["gpu_worker"]["min_workerz"] = 1
    with pytest.raises(jsonschema.ValidationError):
        validate_config(fillout_defaults(copy.deepcopy(broken)))


def test_token_auth_on_and_dashboard_on_loopback_everywhere():
    config = launcher_config()
    text = CLUSTER_YAML.read_text()
    assert "RAY_AUTH_MODE=disabled" not in text and "--dashboard-host=0.0.0.0" not in text
    starts = [c for key in ("head_start_ray_commands", "worker_start_ray_commands") for c in config[key]
              if "ray start" in c]
    assert len(starts) == 2 and all(c.startswith("RAY_AUTH_MODE=token ") for c in starts), starts
    (head,) = [c for c in config["head_start_ray_commands"] if "--head" in c]
    assert "--dashboard-host=127.0.0.1" in head
    assert "--env RAY_AUTH_MODE=token" in config["docker"]["run_options"]  # every process in the containers
    assert config["file_mounts"]["~/.ray/auth_token"] == "~/.ray/auth_token"  # the same token on every node
    for dockerfile in DOCKERFILES:
        assert re.search(r"^ENV .*\bRAY_AUTH_MODE=token\b", dockerfile.read_text(), flags=re.M), dockerfile


def _pins() -> dict[str, str]:
    lines = (REPO / "docker" / "constraints.txt").read_text().splitlines()
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_images_pin_every_dependency_inside_pyprojects_ranges():
    pins = _pins()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name}: no pin in docker/constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (spec, pins[name])
    for dockerfile in DOCKERFILES:
        text = dockerfile.read_text()
        assert re.search(rf"^ARG RAY_VERSION={re.escape(pins['ray'])}$", text, flags=re.M), dockerfile
        assert re.search(r"^FROM rayproject/ray:\$\{RAY_VERSION\}-py311-(gpu|cpu)$", text, flags=re.M), dockerfile
        assert "-c docker/constraints.txt" in text, dockerfile
