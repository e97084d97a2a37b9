"""Coevolution on in-process shards (no Ray): elitism, lineage, hall of fame, NaN handling, determinism."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from evogan import validation
from evogan.data import load_data
from evogan.evolution.engine import Engine
from evogan.evolution.local_backend import LocalBackend
from evogan.metrics.fid import FeatureStats, fid_from_stats
from tests.conftest import TINY


def pixel_fid(real: torch.Tensor):
    """A real (if crude) quality function: FID on 7x7 average-pooled pixels, for each sample set."""
    def features(images):
        return F.avg_pool2d(images.float() / 255.0, 4).flatten(1).double()

    real_stats = FeatureStats.of(features(real))
    return lambda batches: {uid: fid_from_stats(real_stats, FeatureStats.of(features(images)))
                            for uid, images in batches.items()}


def make_engine(*overrides):
    config = validation.load(None, TINY + list(overrides))
    data = load_data(config.data, seed=config.seed)
    backend = LocalBackend(config, data.train, data.holdout, pixel_fid(data.train))
    records = []
    engine = Engine(config, backend, on_generation=lambda summary, _: records.append(summary))
    engine.initialize()
    return engine, backend, records


def weights(state: dict) -> dict:
    """{(side, slot, name): tensor} of a backend.state() snapshot."""
    return {(side, slot, name): t for side, by_slot in state.items() for slot, s in by_slot.items()
            for name, t in s["modules"].items()}


def test_two_populations_are_scored_against_each_other_and_bred():
    engine, backend, records = make_engine("evolution.generations=3", "evolution.elites=1")
    engine.run()
    assert [r["generation"] for r in records] == [0, 1, 2]
    for record in records:
        rows = record["individuals"]
        assert sorted(r["population"] for r in rows) == ["d"] * 4 + ["g"] * 4
        for row in rows:
            keys = ("fid", "fool_rate", "fake_score", "loss_g") if row["population"] == "g" else \
                ("d_accuracy", "real_score", "fake_score", "loss_d")
            for key in keys + ("train_loss_g",):
                assert math.isfinite(row[key]), key
            assert len(row["opponents"]) == 2  # k = evolution.opponents
    g_uids = [{r["uid"] for r in rec["individuals"] if r["population"] == "g"} for rec in records]
    assert len(g_uids[0] & g_uids[1]) == 1  # one elite G survived, three children are new
    assert engine.next_uid == 8 + 2 * (3 + 3)


def test_d_opponents_come_from_other_actors_through_their_samples():
    engine, backend, records = make_engine("evolution.generations=1", "evolution.opponents=4")
    engine.run()
    d_rows = [r for r in records[0]["individuals"] if r["population"] == "d"]
    g_uids = {r["uid"] for r in records[0]["individuals"] if r["population"] == "g"}
    for row in d_rows:
        assert set(row["opponents"]) == g_uids  # all-vs-all when k >= size, across both shards


def test_elites_survive_unchanged_and_children_follow_their_parents():
    engine, backend, records = make_engine("evolution.elites=2", "evolution.generations=1")
    engine.run()
    before = backend.state()
    engine.breed(1)
    after = backend.state()
    for side in ("g", "d"):
        survivors = [slot for slot in before[side] if after[side][slot]["uid"] == before[side][slot]["uid"]]
        assert len(survivors) == 2
        for slot in survivors:
            for name, tensor in before[side][slot]["modules"].items():
                assert torch.equal(tensor, after[side][slot]["modules"][name])
            assert after[side][slot]["optimizers"] == before[side][slot]["optimizers"] or side == "d"
        for slot in set(before[side]) - set(survivors):
            assert after[side][slot]["uid"] >= 8
            assert all(opt["state"] == {} for opt in after[side][slot]["optimizers"].values())
            changed = any(not torch.equal(t, after[side][slot]["modules"][n])
                          for n, t in before[side][slot]["modules"].items())
            assert changed


def test_lineage_names_parents_of_the_previous_generation_and_the_operators():
    engine, backend, records = make_engine("evolution.generations=3", "evolution.crossover=blend",
                                           "evolution.crossover_prob=1.0")
    engine.run()
    for previous, record in zip(records, records[1:]):
        alive = {(r["population"], r["uid"]) for r in previous["individuals"]}
        assert len(record["lineage"]) == 6
        for child in record["lineage"]:
            assert all((child["population"], p) in alive for p in child["parents"])
            assert "mutation" in child["ops"] and ("crossover:blend" in child["ops"]) == (len(child["parents"]) == 2)
        assert {side: len(uids) for side, uids in record["elites"].items()} == {"g": 1, "d": 1}
    assert any(key.endswith("_crossover") for key in records[-1]["crossover"])


def test_hall_of_fame_keeps_the_best_generator_ever_seen():
    engine, backend, records = make_engine("evolution.generations=3")
    engine.run()
    best_ever = min((r for rec in records for r in rec["individuals"] if r["population"] == "g"),
                    key=lambda r: r["fid"])
    assert engine.hall_of_fame[0].uid == best_ever["uid"]


def test_nan_generator_gets_worst_fitness_and_the_run_goes_on():
    engine, backend, records = make_engine("evolution.generations=2", "evolution.elites=1", "evolution.mode=ga")
    member = backend.shards[0].members["g"][0]
    with torch.no_grad():
        for p in member.modules["generator"].parameters():
            p.fill_(float("nan"))
    engine.run()
    first = {r["slot"]: r for r in records[0]["individuals"] if r["population"] == "g"}
    assert first[0]["valid"] is False and all(v == -1e9 for v in first[0]["objectives"])
    assert records[0]["population"]["invalid"] == 1
    assert all(r["valid"] for slot, r in first.items() if slot != 0)
    assert records[1]["population"]["invalid"] == 0  # the NaN generator was bred away
    assert first[0]["uid"] not in {r["uid"] for r in records[1]["individuals"]}


@pytest.mark.parametrize("mode", ["memetic", "ga"])
def test_same_seed_same_populations(mode):
    runs = []
    for _ in range(2):
        engine, backend, records = make_engine(f"evolution.mode={mode}", "evolution.generations=2")
        engine.run()
        runs.append((weights(backend.state()), [r["population"]["best_fid"] for r in records]))
    (state_a, fid_a), (state_b, fid_b) = runs
    assert fid_a == fid_b
    assert state_a.keys() == state_b.keys()
    for key, tensor in state_a.items():
        assert torch.equal(tensor, state_b[key]), key


def test_snapshots_are_copies_not_views_of_live_weights():
    engine, backend, _ = make_engine()
    snapshot = weights(backend.state())
    member = backend.shards[0].members["g"][0]
    with torch.no_grad():
        for p in member.modules.parameters():
            p.add_(1.0)
    after = weights(backend.state())
    assert any(not torch.equal(t, after[k]) for k, t in snapshot.items())


@pytest.mark.parametrize("mode, changes", [("ga", False), ("memetic", True)])
def test_only_memetic_mode_trains_weights_within_a_generation(mode, changes):
    engine, backend, records = make_engine(f"evolution.mode={mode}", "evolution.generations=1")
    before = weights(backend.state())
    engine.run()  # generation 0: no breeding, so only training can change weights
    after = weights(backend.state())
    trained = [k for k in before if k[2].endswith("weight") and not torch.equal(before[k], after[k])]
    assert bool(trained) == changes
    assert ("train_loss_g" in records[0]["individuals"][0]) == changes


VARIANT_OPTIONS = {"dcgan": "{}", "cft_mr_edge": "{feature_dim: 4}",
                   "vaegan_attn": "{perceptual_net: none, attn_resolution: 7}", "mspg_sen": "{ema_decay: 0.9}"}


@pytest.mark.parametrize("variant", sorted(VARIANT_OPTIONS))
def test_every_variant_is_the_memetic_step_of_coevolution(variant):
    engine, backend, records = make_engine(f"model.variant={variant}", f"model.options={VARIANT_OPTIONS[variant]}",
                                           "evolution.crossover=blend", "evolution.crossover_prob=1.0",
                                           "evolution.generations=2", "train.steps_per_generation=2")
    engine.run()
    assert all(r["valid"] for record in records for r in record["individuals"])
    new = {r["uid"] for r in records[1]["individuals"]} - {r["uid"] for r in records[0]["individuals"]}
    assert len(new) == 6
    assert all(math.isfinite(r["train_loss_g"]) for r in records[1]["individuals"])


def test_seed_weights_reach_every_generator_and_leave_discriminators():
    engine, backend, _ = make_engine()
    before = weights(backend.state())
    seed = backend.shards[1].member_state("g", engine.handles["g"][1].uid)["modules"]
    backend.seed_weights(seed)
    after = weights(backend.state())
    for (side, slot, name), tensor in after.items():
        if side == "g":
            assert torch.equal(tensor, seed[name]), (slot, name)
        else:
            assert torch.equal(tensor, before[(side, slot, name)])
