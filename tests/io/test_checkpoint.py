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


def test_atomic_writes_get_the_mode_of_a_plain_open(tmp_path, monkeypatch):
    """Not mkstemp's 0600: results and checkpoints stay readable to a shared cluster's users."""
    from evogan.io import checkpoint
    from evogan.io.outputs import write_json

    monkeypatch.setattr(checkpoint, "_UMASK", 0o022)  # the umask read at import, as this test sets it
    previous = os.umask(0o022)
    try:
        (tmp_path / "plain.json").write_text("{}")
        write_json(tmp_path / "atomic.json", {"a": 1})
        save_checkpoint({"kind": "generator"}, tmp_path / "g.pt")
    finally:
        os.umask(previous)
    plain = (tmp_path / "plain.json").stat().st_mode & 0o777
    assert plain == 0o644
    assert (tmp_path / "atomic.json").stat().st_mode & 0o777 == plain
    assert (tmp_path / "g.pt").stat().st_mode & 0o777 == plain


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
