"""Per-shard recovery in the engine (no Ray): a shard lost mid-generation catches up alone."""

from __future__ import annotations

import torch

from evogan.evolution.local_backend import LocalBackend
from evogan.evolution.recovery import Recovery, ShardsFailed
from evogan.io.population_checkpoint import read_latest_manifest, write_manifest
from evogan.io.storage import Storage
from tests.evolution.test_engine import make_engine, weights


class LosesShardOne(LocalBackend):
    """Shard 1 "dies" once, in the train phase of ``generation``, after shard 0 trained: its
    in-memory state is wiped (a fresh shard), as a recreated actor's would be."""

    def __init__(self, *args, generation: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fail_at, self.trained_calls = generation, []

    def train(self, generation, only=None):
        self.trained_calls.append((generation, None if only is None else sorted(only)))
        if generation == self.fail_at and only is None:
            self.fail_at = -1
            stats = super().train(generation, only={0})
            self.replace({1})
            raise ShardsFailed({1}, "injected", partial=stats)
        return super().train(generation, only)


def run_with_checkpoints(tmp_path, backend_factory):
    engine, backend, records = make_engine("evolution.generations=3")
    if backend_factory is not None:
        backend = backend_factory(engine.config, backend)
        engine.backend = backend
        engine.initialize()
    storage = Storage(tmp_path)
    engine.recovery = Recovery(storage, lambda: read_latest_manifest(storage), attempts=2)

    def checkpoint(summary, eng):
        records.append(summary)
        entries = backend.save_shards(storage, summary["generation"])
        write_manifest(storage, {**eng.light_state(), "shards": entries})

    engine.on_generation = checkpoint
    engine.run()
    return engine, backend, records


def test_a_shard_lost_in_training_is_reloaded_and_replays_only_its_own_work(tmp_path):
    straight_engine, straight, straight_records = run_with_checkpoints(tmp_path / "a", None)

    def losing(config, plain):
        return LosesShardOne(config, plain.shards[0].images, plain.shards[0].holdout, plain.shards[0].quality_fn,
                             generation=2)

    engine, backend, records = run_with_checkpoints(tmp_path / "b", losing)
    assert [r["recovered"] for r in records] == [[], [], [1]]
    assert backend.trained_calls[-2:] == [(2, None), (2, [1])]  # shard 0 did not train twice
    a, b = weights(straight.state()), weights(backend.state())
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    strip = lambda rs: [[(r["population"], r["uid"], r["fid"] if "fid" in r else r["d_accuracy"])
                         for r in rec["individuals"]] for rec in rs]
    assert strip(records) == strip(straight_records[-3:])
