"""A study run piecewise (``sweep.only_arms``) and reported as one: two real pieces of
seed003_cft's smoke profile through Ray Tune, then ``python -m evogan.studies PIECE PIECE``;
pieces that differ in budget or share an arm are refused with exit code 2. A third piece runs
another seed and joins an earlier report's seed with ``--seeds-from``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evogan.config import read_yaml
from evogan.studies.__main__ import main
from evogan.studies.pieces import first_difference
from evogan.tune.runner import prepare_sweep, run_sweep

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "studies" / "seed003_cft.yaml"
PIECES = {"base": ["dcgan"], "combined": ["cft_mr_edge", "edge_only"], "seed_one": ["dcgan"]}
SEEDS = {"seed_one": "sweep.seeds=[1]"}


@pytest.fixture(scope="module")
def pieces(ray_local, tmp_path_factory):
    storage = tmp_path_factory.mktemp("pieces")
    directories = {}
    for name, arms in PIECES.items():
        prepared = prepare_sweep(CONFIG, [
            "sweep.smoke=true", "sweep.verbose=0", f"sweep.storage_path={storage}", f"sweep.name={name}",
            f"metrics.cache_dir={storage / 'cache'}", "trainer.steps=4", "trainer.eval_every=2",
            f"sweep.only_arms=[{', '.join(arms)}]", *([SEEDS[name]] if name in SEEDS else [])])
        assert not run_sweep(prepared).errors
        directories[name] = prepared.experiment_dir
    return directories


def report(tmp_path: Path, *directories: Path, seeds_from: Path | None = None) -> int:
    return main([*map(str, directories), "--out", str(tmp_path / "report"), "--samples", "32",
                 "--real-samples", "128", "--inception", "0", "--cache-dir", str(tmp_path / "cache"),
                 "--no-samples-plot", *(["--seeds-from", str(seeds_from)] if seeds_from else [])])


def test_each_piece_records_every_claim_of_its_config(pieces):
    claims = read_yaml(CONFIG)["study"]["claims"]
    for directory in pieces.values():
        info = json.loads((directory / "evogan_sweep.json").read_text())
        assert info["study_claims"] == claims
    combined = json.loads((pieces["combined"] / "evogan_sweep.json").read_text())
    assert combined["inputs"]["study"]["claims"] == []  # no claim lies within that piece alone


def test_pieces_report_as_one_study_with_the_claims_between_their_arms(pieces, tmp_path):
    assert report(tmp_path, pieces["base"], pieces["combined"]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    for arm in ("dcgan", "cft_mr_edge", "edge_only"):
        assert f"| {arm} | 1 | 4 |" in text
    expected = [c["text"] for c in read_yaml(CONFIG)["study"]["claims"]
                if {c["arm"], c["baseline"]} <= {"dcgan", "cft_mr_edge", "edge_only"}]
    verdicts = [line for line in text.splitlines() if line.startswith("- **")]
    assert len(expected) == 4 and len(verdicts) == 4
    assert all(claim in line for claim, line in zip(expected, verdicts))
    assert "Sweep machine (base):" in text and "Sweep machine (combined):" in text
    assert "sweep.only_arms=[dcgan]" in text and "sweep.only_arms=[cft_mr_edge, edge_only]" in text
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert results["pieces"] == [str(pieces["base"]), str(pieces["combined"])]
    assert {t["group"] for t in results["trials"]} == {"dcgan", "cft_mr_edge", "edge_only"}


def test_pieces_of_a_different_budget_exit_2_naming_the_key(pieces, tmp_path, capsys):
    other = tmp_path / "longer"
    shutil.copytree(pieces["combined"], other)
    info = json.loads((other / "evogan_sweep.json").read_text())
    info["inputs"]["trainer"]["steps"] = 8
    (other / "evogan_sweep.json").write_text(json.dumps(info))
    assert report(tmp_path, pieces["base"], other) == 2
    err = capsys.readouterr().err
    assert "not a piece of the same study" in err and "(trainer.steps differs)" in err


def test_an_arm_in_two_pieces_exits_2(pieces, tmp_path, capsys):
    copy = tmp_path / "again"
    shutil.copytree(pieces["base"], copy)
    assert report(tmp_path, pieces["base"], copy) == 2
    assert "arm 'dcgan' is also in an earlier piece" in capsys.readouterr().err


def test_first_difference_names_the_dotted_key():
    assert first_difference({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}}) == "a.c"
    assert first_difference({"a": 1}, {"a": 1, "b": None}) is None
    assert first_difference({"a": [1, 2]}, {"a": [1, 3]}) == "a"


@pytest.fixture(scope="module")
def base_report(pieces, tmp_path_factory):
    """The seed-0 piece's report (its results.json), as a later run's --seeds-from."""
    where = tmp_path_factory.mktemp("base_report")
    assert report(where, pieces["base"]) == 0
    return where / "report" / "results.json"


def test_seeds_from_an_earlier_report_join_its_rows(pieces, base_report, tmp_path):
    assert report(tmp_path, pieces["seed_one"], seeds_from=base_report) == 0
    earlier = json.loads(base_report.read_text())
    merged = json.loads((tmp_path / "report" / "results.json").read_text())
    [row] = merged["rows"]
    assert row["group"] == "dcgan" and row["seeds"] == [0, 1]
    assert row["values"]["fid_domain"][0] == earlier["rows"][0]["values"]["fid_domain"][0]
    assert [t["seed"] for t in merged["trials"]] == [1, 0] and merged["trials"][1]["from"] == str(base_report)
    text = (tmp_path / "report" / "report.md").read_text()
    assert "| dcgan | 2 | 4 |" in text and "Seeds 0 come from earlier reports" in text
    assert "'sweep.seeds=[1]'" in text and earlier["command"] in text
    assert "Sweep machine (seeds 0, earlier report):" in text


def test_a_report_written_before_protocols_were_recorded_is_checked_by_its_command(pieces, base_report, tmp_path):
    older = json.loads(base_report.read_text())
    del older["protocol"], older["real_samples"]
    (tmp_path / "older.json").write_text(json.dumps(older))
    assert report(tmp_path, pieces["seed_one"], seeds_from=tmp_path / "older.json") == 0
    assert json.loads((tmp_path / "report" / "results.json").read_text())["rows"][0]["seeds"] == [0, 1]


def _edited(base_report: Path, tmp_path: Path, edit) -> Path:
    data = json.loads(base_report.read_text())
    edit(data)
    (tmp_path / "edited.json").write_text(json.dumps(data))
    return tmp_path / "edited.json"


def _no_protocol_other_command(data):
    del data["protocol"]
    data["command"] = data["command"].replace("trainer.steps=4", "trainer.steps=8")


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["protocol"]["inputs"]["trainer"].update(steps=8), "(inputs.trainer.steps differs)"),
    (_no_protocol_other_command, "(the sweep command (apart from sweep.seeds and sweep.name) differs)"),
    (lambda d: d["names"].update(fid_domain="fid_domain_4k"), "scored with"),
    (lambda d: d["trials"][0].update(steps=2), "trained 2 steps, not the budget 4"),
    (lambda d: d["trials"][0].update(group="wgan"), "row 'wgan' seed 0 is not a row of this study"),
])
def test_a_mismatched_earlier_report_exits_2_naming_it(pieces, base_report, tmp_path, capsys, edit, message):
    earlier = _edited(base_report, tmp_path, edit)
    assert report(tmp_path, pieces["seed_one"], seeds_from=earlier) == 2
    err = capsys.readouterr().err
    assert f"--seeds-from {earlier}" in err and message in err


def test_a_seed_already_in_the_study_exits_2(pieces, base_report, tmp_path, capsys):
    assert report(tmp_path, pieces["base"], seeds_from=base_report) == 2
    assert "row 'dcgan' seed 0 is also in this study already" in capsys.readouterr().err


def test_an_unreadable_earlier_report_exits_2_naming_it(pieces, tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert report(tmp_path, pieces["seed_one"], seeds_from=broken) == 2
    err = capsys.readouterr().err
    assert f"--seeds-from {broken}: not a readable study report (" in err and len(err.strip().splitlines()) == 1
