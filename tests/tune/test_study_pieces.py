"""A study run piecewise (``sweep.only_arms``) and reported as one: two real pieces of
seed003_cft's smoke profile through Ray Tune, then ``python -m evogan.studies PIECE PIECE``;
pieces that differ in budget or share an arm are refused with exit code 2."""

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
PIECES = {"base": ["dcgan"], "combined": ["cft_mr_edge", "edge_only"]}


@pytest.fixture(scope="module")
def pieces(ray_local, tmp_path_factory):
    storage = tmp_path_factory.mktemp("pieces")
    directories = {}
    for name, arms in PIECES.items():
        prepared = prepare_sweep(CONFIG, [
            "sweep.smoke=true", "sweep.verbose=0", f"sweep.storage_path={storage}", f"sweep.name={name}",
            f"metrics.cache_dir={storage / 'cache'}", "trainer.steps=4", "trainer.eval_every=2",
            f"sweep.only_arms=[{', '.join(arms)}]"])
        assert not run_sweep(prepared).errors
        directories[name] = prepared.experiment_dir
    return directories


def report(tmp_path: Path, *directories: Path) -> int:
    return main([*map(str, directories), "--out", str(tmp_path / "report"), "--samples", "32",
                 "--real-samples", "128", "--inception", "0", "--cache-dir", str(tmp_path / "cache"),
                 "--no-samples-plot"])


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
