"""Atomic checkpoint writes, safe loading, torn metrics lines."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from evogan.io.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from evogan.io.metrics_log import MetricsLog, read_jsonl
from evogan.io.run_dir import RunDir


def test_round_trip_and_kind_check(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint({"kind": "population", "weights": torch.arange(4.0), "nested": {"lr": 1e-3}}, path)
    loaded = load_checkpoint(path, kind="population")
    assert torch.equal(loaded["weights"], torch.arange(4.0)) and loaded["nested"]["lr"] == 1e-3
    with pytest.raises(CheckpointError, match="expected a generator"):
        load_checkpoint(path, kind="generator")


def test_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "latest.pt"
    save_checkpoint({"kind": "population", "generation": 1}, path)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        save_checkpoint({"kind": "population", "generation": 2}, path)
    monkeypatch.undo()
    assert load_checkpoint(path)["generation"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]  # no temp file left behind


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_pickled_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    with path.open("wb") as handle:
        torch.save({"format": 1, "payload": Evil()}, handle, pickle_module=pickle)
    with pytest.raises(CheckpointError, match="unreadable checkpoint"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"", b"garbage", b"PK\x03\x04broken zip"])
def test_corrupt_files_name_the_path(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=str(path)):
        load_checkpoint(path)


def test_non_evogan_file_is_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(CheckpointError, match="not an evogan checkpoint"):
        load_checkpoint(path)


def test_metrics_log_survives_a_torn_line_and_truncates_on_resume(tmp_path):
    run = RunDir(tmp_path)
    log = MetricsLog(run, tensorboard=False)
    for generation in range(3):
        log.write({"generation": generation, "population": {"best_fid": float("nan")}})
    with run.metrics.open("a") as handle:
        handle.write('{"generation": 3, "popul')
    rows = read_jsonl(run.metrics)
    assert [r["generation"] for r in rows] == [0, 1, 2]
    assert rows[0]["population"]["best_fid"] is None  # NaN is written as null, valid JSON
    MetricsLog(run, tensorboard=False, resume_after=1)
    assert [r["generation"] for r in read_jsonl(run.metrics)] == [0, 1]
