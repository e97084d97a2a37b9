"""RunDir, the shared output writers, the storage check and the CLI frame (no training, no Ray)."""

from __future__ import annotations

import json
import math
import re

import pytest
import torch

from evogan.cli import Session, run_cli
from evogan.config import Config, ConfigError, OutputConfig
from evogan.io.inputs import InputError
from evogan.io.outputs import (QUANTITIES, evaluation_scalars, generation_scalars, write_json, write_plots,
                               write_sample_grid)
from evogan.io.run_dir import RunDir
from evogan.io.storage_check import check_storage_uri


def test_run_dir_is_created_numbered_and_reopened(tmp_path):
    config = Config(output=OutputConfig(root=str(tmp_path / "runs")))
    first, second = RunDir.create(config), RunDir.create(config)
    assert first.root.name == "0001-dcgan-shapes" and second.root.name == "0002-dcgan-shapes"
    for path in (first.samples_dir, first.plots_dir, first.tensorboard_dir, first.checkpoints_dir, first.config):
        assert path.exists(), path
    assert RunDir.open(first.root) == first and str(first) == str(first.root)
    assert first.sample_grid(3).name == "gen_0003.png" and first.step_sample_grid(40).name == "step_000040.png"
    assert first.latest_manifest == first.checkpoints_dir / "latest.json"
    assert first.best_checkpoint.parent == first.latest_checkpoint.parent == first.checkpoints_dir


@pytest.mark.parametrize("kind, message", [("missing", "no such run directory"), ("file", "expected a run directory"),
                                           ("empty", "not a run directory (no config.yaml)"),
                                           ("trainer", "not a trainer run directory (no trainer.yaml)")])
def test_run_dir_open_names_the_path(tmp_path, kind, message):
    path = tmp_path / "run"
    if kind == "file":
        path.write_text("")
    elif kind != "missing":
        path.mkdir()
        if kind == "trainer":
            (path / "config.yaml").write_text("seed: 0\n")
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        RunDir.open(path, trainer=kind == "trainer")
    assert str(caught.value).startswith(str(path))


def test_run_and_train_rows_share_tensorboard_tags():
    run_row = {"generation": 2, "seconds": 1.5, "population": {
        "best_fid": 10.0, "mean_fid": 12.0, "best_real_score": 0.6, "best_fake_score": 0.4, "best_d_accuracy": 0.7,
        "best_fool_rate": 0.3, "best_loss_g": 1.1, "best_loss_d": 0.9, "mean_loss_g": 1.2, "invalid": 0,
        "best_uid": 3, "best_g_uid": 3, "best_d_uid": 5}}
    train_row = {"generation": 0, "step": 20, "metric": "fid_domain_64", "seconds": 2.0, "train_seconds": 1.5,
                 "fid": 11.0, "real_score": 0.5, "fake_score": 0.5, "d_accuracy": 0.6, "loss_g": 1.0, "loss_d": 1.0,
                 "lr_g": 2e-4, "train_loss_g": 1.3, "balancer_epsilon": 0.5, "diverged_flag": float("nan")}
    run, train = generation_scalars(run_row), evaluation_scalars(train_row)
    shared = {tag for tag, (_, train_key) in QUANTITIES.items() if train_key} | {"time/seconds"}
    assert shared <= run.keys() and shared <= train.keys()
    assert run["quality/best_fid"] == 10.0 and train["quality/best_fid"] == 11.0
    assert {"quality/mean_fid", "scores/fool_rate", "population/mean_loss_g", "population/invalid"} <= run.keys()
    assert not any(tag.endswith("uid") for tag in run)
    assert {"hparams/lr_g", "train/train_loss_g", "balancer/balancer_epsilon"} <= train.keys()
    assert train["time/train_seconds"] == 1.5 and "train/train_seconds" not in train
    assert all(math.isfinite(v) for v in train.values()) and "hparams/diverged_flag" not in train


def test_plots_grids_and_json(tmp_path):
    run = RunDir(tmp_path)
    rows = [{"generation": g, "seconds": 1.0, "population": {"best_fid": 10.0 - g, "mean_fid": 12.0,
                                                              "best_real_score": 0.6, "best_loss_g": 1.0}}
            for g in range(3)]
    assert {p.name for p in write_plots(run, rows, "fid_domain_64")} == {"scores.png", "losses.png", "quality.png"}
    steps = [{"generation": i, "step": 10 * (i + 1), "fid": 5.0, "real_score": 0.5, "loss_d": 1.0} for i in range(2)]
    assert all(p.stat().st_size > 0 for p in write_plots(run, steps, "fid_domain_64", x="step"))
    grid = write_sample_grid(torch.zeros(64, 1, 8, 8, dtype=torch.uint8), run.sample_grid(0))
    assert run.sample_grid(0).is_file() and grid.shape[0] == 3
    write_json(run.summary, {"best": math.inf, "values": [1.0, math.nan]})
    assert json.loads(run.summary.read_text()) == {"best": None, "values": [1.0, None]}


def test_storage_uri_check(tmp_path):
    (tmp_path / "a_file").write_text("")
    _, path = check_storage_uri(str(tmp_path / "new" / "store"))
    assert path == str(tmp_path / "new" / "store") and not (tmp_path / "new").exists()  # nothing created
    check_storage_uri(f"file://{tmp_path}")
    for uri, message in ((f"{tmp_path}/a_file/store", "is not a directory"),
                         (f"file://{tmp_path}/a_file", "is a file"),
                         ("nosuch://bucket/prefix", "unusable storage URI"), ("", "empty storage location")):
        with pytest.raises(InputError, match=message) as caught:
            check_storage_uri(uri)
        assert len(str(caught.value).splitlines()) == 1 and uri in str(caught.value)


def test_cli_frame_exit_codes(capsys):
    def bad(argv, session):
        raise ConfigError("train.lr_g: must be > 0\nsecond line")

    assert run_cli(bad, []) == 2
    assert capsys.readouterr().err == "error: train.lr_g: must be > 0 second line\n"

    def interrupted(argv, session: Session):
        session.started(resume_command="python -m evogan.run --resume runs/0001")
        raise KeyboardInterrupt

    assert run_cli(interrupted, []) == 130
    assert capsys.readouterr().err == "interrupted; resume with: python -m evogan.run --resume runs/0001\n"

    def fails_during_the_run(argv, session: Session):
        session.started()
        raise ConfigError("raised by the run, not by the user's input")

    with pytest.raises(ConfigError):
        run_cli(fails_during_the_run, [])
    assert run_cli(lambda argv, session: len(argv), ["a", "b", "c"]) == 3
