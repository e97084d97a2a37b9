"""The quality-per-compute benchmark's mixture row (a+): taken from the memetic runs' mixture
scores, placed right after (a), absent when no run scored a mixture."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "quality_per_compute.py"


@pytest.fixture(scope="module")
def qpc():
    spec = importlib.util.spec_from_file_location("quality_per_compute_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def record(arm, seed, fid, mixture_fid=None):
    final = {"fid_domain_4k": fid, "fitness_fid": fid + 1.0}
    if mixture_fid is not None:
        final["mixture"] = {"fid_domain_4k": mixture_fid, "pool_fid": mixture_fid + 2.0}
    return {"arm": arm, "dataset": "full", "seed": seed, "final": final, "adam_steps": 120, "evaluations": 8,
            "wall_s": 1.0}


def plan_of(arms):
    return SimpleNamespace(arms=arms, datasets=("full",), budget=SimpleNamespace(final_samples=4096))


def test_the_mixture_row_follows_memetic_with_the_mixture_scores(qpc):
    records = [record("memetic", 0, 10.0, 9.0), record("memetic", 1, 20.0, 23.0), record("single", 0, 5.0)]
    table = qpc.aggregate(plan_of(("memetic", "single")), records)["table"]["full"]
    assert list(table) == ["memetic", "mixture", "single"]
    assert table["mixture"]["per_seed"] == {"0": 9.0, "1": 23.0}
    assert table["mixture"]["mean"] == pytest.approx(16.0)
    assert table["memetic"]["per_seed"] == {"0": 10.0, "1": 20.0}
    assert table["mixture"]["adam_steps"] == [120]


def test_no_mixture_row_without_mixture_scores(qpc):
    records = [record("memetic", 0, 10.0), record("single", 0, 5.0)]
    assert list(qpc.aggregate(plan_of(("memetic", "single")), records)["table"]["full"]) == ["memetic", "single"]
