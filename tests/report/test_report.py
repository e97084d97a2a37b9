"""The run report from run-directory files (no Ray, no training): series, genealogy, the page,
the CLI, and the TensorBoard HParams / tag names shared by evogan.run, .train and .sweep."""

from __future__ import annotations

import json
import math
import re

import pytest

from evogan import validation
from evogan.config import ConfigError
from evogan.io.outputs import finish_run, generation_scalars
from evogan.io.run_dir import RunDir
from evogan.report import write_report
from evogan.report.__main__ import main as report_main
from evogan.report.genealogy import ancestors, best_generator, genealogy_html
from evogan.report.runs import RunData, pareto_mask, timing_parts


def member(side: str, uid: int, slot: int, quality: float, fool: float = 0.5, lr: float = 3e-4, loss: str = "bce"):
    row = {"population": side, "uid": uid, "slot": slot, "valid": True,
           "hp": {"lr_g": lr, "lr_d": lr, "loss": loss}, "fool_rate": fool}
    row["fid" if side == "g" else "d_accuracy"] = quality
    return row


def synthetic_rows() -> list[dict]:
    """Three generations of 2 G's and 2 D's: G uid 4 (a mutant of 0) and uid 6 (a crossover of 4 and 1)."""
    g0 = [member("g", 0, 0, 100.0, 0.2), member("g", 1, 1, 120.0, 0.6)]
    d0 = [member("d", 2, 0, 0.6), member("d", 3, 1, 0.7, loss="hinge")]
    g1 = [member("g", 0, 0, 90.0, 0.3), member("g", 4, 1, 80.0, 0.4)]
    d1 = [member("d", 3, 1, 0.72, loss="hinge"), member("d", 5, 0, 0.65)]
    g2 = [member("g", 4, 1, 70.0, 0.5), member("g", 6, 0, 60.0, 0.45, lr=4e-4)]
    lineage1 = [{"population": "g", "uid": 4, "slot": 1, "parents": [0], "ops": ["mutation", "hp_mutation"],
                 "gain": 10.0},
                {"population": "d", "uid": 5, "slot": 0, "parents": [3], "ops": ["mutation"], "gain": -0.05}]
    lineage2 = [{"population": "g", "uid": 6, "slot": 0, "parents": [4, 1], "ops": ["crossover:blend", "mutation"],
                 "gain": 20.0}]
    crossover = [{}, {"g_mutation": {"children": 1, "success_rate": 1.0, "mean_gain": 10.0}},
                 {"g_crossover": {"children": 1, "success_rate": 1.0, "mean_gain": 20.0}}]
    rows = []
    for generation, (gs, ds, lineage) in enumerate([(g0, d0, []), (g1, d1, lineage1), (g2, d1, lineage2)]):
        best_g = min(gs, key=lambda r: r["fid"])
        best_d = max(ds, key=lambda r: r["d_accuracy"])
        rows.append({"metric": "fid_domain_64", "generation": generation, "seconds": 2.0,
                     "timings": {"breed": 0.1, "train": 1.0, "score": 0.5, "fid_wait": 0.2, "outputs": 0.1,
                                 "checkpoint": 0.1},
                     "population": {"best_fid": best_g["fid"], "mean_fid": sum(r["fid"] for r in gs) / 2,
                                    "best_g_uid": best_g["uid"], "best_uid": best_g["uid"], "best_d_uid": best_d["uid"],
                                    "best_d_accuracy": best_d["d_accuracy"]},
                     "individuals": gs + ds, "lineage": lineage, "elites": {}, "crossover": crossover[generation],
                     "hall_of_fame": [{"uid": best_g["uid"], "objectives": [-best_g["fid"], 0.5]}]})
    return rows


def make_run(root, name: str, rows: list[dict], config_text: str = "seed: 0\n") -> RunDir:
    run = RunDir(root / name)
    run.samples_dir.mkdir(parents=True)
    run.config.write_text(config_text)
    run.metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


def test_genealogy_goes_back_to_generation_zero_with_operators():
    rows = synthetic_rows()
    assert best_generator(rows) == 6
    nodes = ancestors(rows)
    assert nodes[6].parents == [4, 1] and nodes[4].parents == [0] and not nodes[0].parents
    assert nodes[6].born == 2 and nodes[0].born == 0 and nodes[4].quality == 80.0
    page = genealogy_html(rows, "fid_domain_64")
    assert "uid 6" in page and "3 ancestors" in page
    for text in ("crossover:blend + mutation (first parent", "(second parent", "mutation + hp_mutation (parent",
                 "uid 0", "founder, generation 0"):
        assert text in page, text


def test_series_fronts_and_timings(tmp_path):
    run = RunData.load(make_run(tmp_path, "r", synthetic_rows()))
    assert pareto_mask([(-100.0, 0.2), (-120.0, 0.6), (-130.0, 0.1)]) == [True, True, False]
    parts = timing_parts(run)
    assert parts["score"] == [pytest.approx(0.3)] * 3 and parts["fid_wait"] == [0.2] * 3  # FID wait split from score
    assert sum(values[0] for values in parts.values()) == pytest.approx(2.0)  # stacked to the generation's seconds


def test_page_overlays_runs_embeds_everything_and_escapes_the_config(tmp_path):
    evolved = make_run(tmp_path / "a", "0001-dcgan-shapes", synthetic_rows(), "data:\n  root: '<script>x</script>'\n")
    trainer_rows = [{"generation": i, "step": 10 * (i + 1), "metric": "fid_domain_64", "fid": 90.0 - i,
                     "d_accuracy": 0.6, "lr_g": 2e-4, "lr_d": 2e-4, "seconds": 1.0} for i in range(3)]
    trained = make_run(tmp_path / "b", "0001-dcgan-shapes", trainer_rows)
    path = write_report([evolved, trained], tmp_path / "out")
    page = path.read_text()
    assert path == tmp_path / "out" / "index.html"
    assert "a/0001-dcgan-shapes" in page and "b/0001-dcgan-shapes" in page  # same folder names told apart
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page
    sources = re.findall(r'<img src="([^"]*)"', page)
    assert len(sources) >= 6 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "uid 6" in page and 'http-equiv="refresh"' not in page
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"(?!data:)", page)  # nothing fetched
    assert write_report([evolved], live=True) == evolved.report_index
    assert 'http-equiv="refresh"' in evolved.report_index.read_text()


def test_cli_writes_the_page_and_names_a_bad_run_dir(tmp_path, capsys):
    run = make_run(tmp_path, "r", synthetic_rows())
    assert report_main([str(run.root)]) == 0
    assert run.report_index.is_file() and str(run.report_index) in capsys.readouterr().out
    assert report_main([str(run.root), str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {tmp_path / 'missing'}: no such run directory"


def test_report_every_is_validated():
    assert validation.load(None, ["output.report_every=0"]).output.report_every == 0
    with pytest.raises(ConfigError, match="output.report_every"):
        validation.load(None, ["output.report_every=-1"])


def tags_and_hparams(log_dir) -> tuple[set[str], dict]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_dir))
    events.Reload()
    try:
        plugin = events.PluginTagToContent("hparams")
    except KeyError:
        plugin = {}
    return set(events.Tags()["scalars"]), plugin


def test_run_end_writes_hparams_and_the_report(tmp_path):
    config = validation.load(None, ["output.tensorboard=true"])
    run = make_run(tmp_path, "r", synthetic_rows())
    finish_run(config, run, {"best_fitness_fid": 60.0, "final_metrics": {"fid_domain_2k": 55.0, "kid": math.nan}})
    tags, plugin = tags_and_hparams(run.tensorboard_dir)
    assert {"final/best_fid", "final/fid_domain_2k"} <= tags and "final/kid" not in tags
    assert "_hparams_/session_start_info" in plugin
    assert b"evolution.population_size" in plugin["_hparams_/session_start_info"]
    assert run.report_index.is_file()


def test_tune_trials_log_the_run_tags(tmp_path):
    from evogan.tune.tensorboard import TensorBoardCallback

    class Trial:
        local_path, config = str(tmp_path / "trial"), {"train": {"lr_g": 1e-3}}

        def init_local_path(self):
            (tmp_path / "trial").mkdir(exist_ok=True)

    trial, callback = Trial(), TensorBoardCallback({}, ["train.lr_g"], "fid_domain_64")
    for i in range(2):
        callback.log_trial_result(i + 1, trial, {
            "fid_domain_64": 50.0 - i, "fid": 50.0 - i, "real_score": 0.6, "fake_score": 0.4, "d_accuracy": 0.7,
            "loss_g": 1.0, "loss_d": 1.1, "lr_g": 1e-3, "step": 4 * (i + 1), "seconds": 1.0, "diverged": False,
            "training_iteration": i + 1, "time_total_s": 2.0, "trial_id": "t", "done": False, "config": {}})
    callback.log_trial_end(trial)
    tags, plugin = tags_and_hparams(trial.local_path)
    run_tags = set(generation_scalars({"seconds": 1.0, "population": {
        "best_fid": 1.0, "best_real_score": 0.5, "best_fake_score": 0.5, "best_d_accuracy": 0.5,
        "best_loss_g": 1.0, "best_loss_d": 1.0}}))
    assert run_tags <= tags and "hparams/lr_g" in tags and "final/best_fid" in tags
    assert not any(t.startswith("ray/") or "training_iteration" in t or "fid_domain" in t for t in tags)
    assert b"sweep" in plugin["_hparams_/session_start_info"]
