"""The generation loop on in-process shards (no Ray): elitism, placement, NaN handling, determinism."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from evogan import config as cfg
from evogan.data import load_data
from evogan.evolution.engine import Engine
from evogan.evolution.local_backend import LocalBackend
from evogan.metrics.fid import FeatureStats, fid_from_stats
from tests.conftest import TINY


def pixel_fid(real: torch.Tensor):
    """A real (if crude) quality function: FID on 7x7 average-pooled pixels."""
    def features(images):
        return F.avg_pool2d(images.float() / 255.0, 4).flatten(1).double()

    real_stats = FeatureStats.of(features(real))
    return lambda images: fid_from_stats(real_stats, FeatureStats.of(features(images)))


def make_engine(*overrides):
    config = cfg.load(None, TINY + list(overrides))
    data = load_data(config.data, seed=config.seed)
    backend = LocalBackend(config, data.train, data.holdout, pixel_fid(data.train))
    records = []
    engine = Engine(config, backend, on_generation=lambda summary, _: records.append(summary))
    engine.initialize()
    return engine, backend, records


def test_generations_record_thesis_figures_and_replace_non_elites():
    engine, backend, records = make_engine("evolution.generations=3", "evolution.elites=1")
    engine.run()
    assert [r["generation"] for r in records] == [0, 1, 2]
    for record in records:
        assert len(record["individuals"]) == 4
        for row in record["individuals"]:
            for key in ("real_score", "fake_score", "loss_g", "loss_d", "d_accuracy", "fid", "train_loss_g"):
                assert math.isfinite(row[key]), key
            assert 0 <= row["d_accuracy"] <= 1
    uids_0 = {r["uid"] for r in records[0]["individuals"]}
    uids_1 = {r["uid"] for r in records[1]["individuals"]}
    assert len(uids_0 & uids_1) == 1  # exactly one elite survived, three children are new
    assert engine.next_uid == 4 + 3 * 2


def test_elites_survive_unchanged_and_children_follow_their_parents():
    engine, backend, records = make_engine("evolution.elites=2", "evolution.generations=1")
    engine.run()
    before = backend.state()
    engine.breed(1)
    after = backend.state()
    survivors = [slot for slot in before if after[slot]["uid"] == before[slot]["uid"]]
    assert len(survivors) == 2
    for slot in survivors:
        for name, tensor in before[slot]["modules"].items():
            assert torch.equal(tensor, after[slot]["modules"][name])
        assert before[slot]["optimizers"]["g"]["state"].keys() == after[slot]["optimizers"]["g"]["state"].keys()
    children = [slot for slot in before if slot not in survivors]
    for slot in children:
        assert after[slot]["uid"] >= 4 and after[slot]["optimizers"]["g"]["state"] == {}


def test_nan_individual_gets_worst_fitness_and_the_run_goes_on():
    engine, backend, records = make_engine("evolution.generations=2", "evolution.elites=1")
    member = backend.shards[0].members[0]
    with torch.no_grad():
        for p in member.modules["generator"].parameters():
            p.fill_(float("nan"))
    engine.run()
    first = {r["slot"]: r for r in records[0]["individuals"]}
    assert first[0]["valid"] is False
    assert records[0]["population"]["invalid"] == 1
    assert all(v == -1e9 for v in first[0]["objectives"])
    assert all(r["valid"] for slot, r in first.items() if slot != 0)
    assert records[1]["population"]["invalid"] == 0  # the NaN individual was bred away
    assert 0 not in {r["uid"] for r in records[1]["individuals"]}


@pytest.mark.parametrize("mode", ["memetic", "ga"])
def test_same_seed_same_population(mode):
    runs = []
    for _ in range(2):
        engine, backend, records = make_engine(f"evolution.mode={mode}", "evolution.generations=2")
        engine.run()
        runs.append((backend.state(), [r["population"]["best_fid"] for r in records]))
    (state_a, fid_a), (state_b, fid_b) = runs
    assert fid_a == fid_b
    for slot in state_a:
        for name, tensor in state_a[slot]["modules"].items():
            assert torch.equal(tensor, state_b[slot]["modules"][name]), name


def test_ga_mode_changes_weights_only_through_operators():
    engine, backend, records = make_engine("evolution.mode=ga", "evolution.generations=1")
    before = backend.state()
    engine.run()  # evaluation only: no gradient steps
    after = backend.state()
    for slot in before:
        for name, tensor in before[slot]["modules"].items():
            assert torch.equal(tensor, after[slot]["modules"][name]), name
    assert "train_loss_g" not in records[0]["individuals"][0]


VARIANT_OPTIONS = {"dcgan": "{}", "cft_mr_edge": "{feature_dim: 4}",
                   "vaegan_attn": "{perceptual_net: none, attn_resolution: 7}", "mspg_sen": "{ema_decay: 0.9}"}


@pytest.mark.parametrize("variant", sorted(VARIANT_OPTIONS))
def test_every_variant_is_the_memetic_step_of_a_population(variant):
    engine, backend, records = make_engine(f"model.variant={variant}", f"model.options={VARIANT_OPTIONS[variant]}",
                                           "evolution.crossover=blend", "evolution.crossover_prob=1.0",
                                           "evolution.generations=2", "train.steps_per_generation=2")
    engine.run()
    assert all(r["valid"] for record in records for r in record["individuals"])
    assert len({r["uid"] for r in records[1]["individuals"]} - {r["uid"] for r in records[0]["individuals"]}) == 3
    assert all(math.isfinite(r["train_loss_g"]) for r in records[1]["individuals"])
