"""The seed-paper studies (configs/studies/*.yaml): every study's smoke profile is checked and
every one of its trials (arm x grid point, first seed) trains in-process; one study runs end to
end through Ray Tune and ``python -m evogan.studies`` reports it; the arms/seeds machinery, the
stability figures and the verdict rule on constructed numbers."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from evogan.config import ConfigError, to_dict
from evogan.studies.config import build_study
from evogan.studies.stability import (collapse_events, mean_std, oscillation_events, stability, variance,
                                      verdict)
from evogan.training.loop import IndividualTrainer
from evogan.training.loop_config import section_dict
from evogan.tune.runner import prepare_sweep, resolve_sections, run_sweep, sweep_dimensions
from evogan.tune.search_space import nested
from evogan.tune.trainable import trial_configs

STUDIES = Path(__file__).resolve().parents[2] / "configs" / "studies"
STUDY_FILES = sorted(STUDIES.glob("*.yaml"))
EXPECTED = {"seed003_cft", "seed003_fd", "seed000_vaegan", "seed000_sensitivity", "seed004_ablations",
            "seed004_balancer", "seed004_balancer_sweep", "variants_fmnist", "variants_fmnist1k"}
NO_PERCEPTUAL = {"seed000_vaegan": ["model.options.perceptual_net=none"],
                 "seed000_sensitivity": ["model.options.perceptual_net=none"],
                 "variants_fmnist": ["sweep.arms.vaegan_attn.model.options.perceptual_net=none"],
                 "variants_fmnist1k": ["sweep.arms.vaegan_attn.model.options.perceptual_net=none"]}
"""The in-process check leaves out the VAE-GAN's Inception perceptual loss (tests/models covers
it; it is most of a CPU step), so the 45 smoke trials take seconds."""


def smoke(storage: Path, *extra: str) -> list[str]:
    return ["sweep.smoke=true", "sweep.verbose=0", f"sweep.storage_path={storage}",
            f"metrics.cache_dir={storage / 'cache'}", *extra]


def test_every_study_of_the_issue_has_a_config():
    assert {p.stem for p in STUDY_FILES} == EXPECTED


@pytest.mark.parametrize("path", STUDY_FILES, ids=lambda p: p.stem)
def test_full_profile_is_a_valid_equal_compute_study(path):
    """The real profile (no data loaded): >= 3 seeds (or an ASHA search), claims on existing rows,
    the protocol's sample counts, a budget every trial shares."""
    from evogan.config import read_yaml
    from evogan.studies.config import check_against_sweep
    from evogan.training.loop_config import TrainerConfig, build_sections
    from evogan.tune.runner import check_search_space

    raw = read_yaml(path)
    sweep, base = resolve_sections(raw, [])
    dimensions, arms = sweep_dimensions(sweep)
    check_search_space(base, dimensions, arms)
    study = build_study(raw.get("study"))
    check_against_sweep(study, [d.key for d in dimensions], arms)
    build_sections(base, {"trainer": TrainerConfig})
    assert sweep.storage_path == "runs/studies" and sweep.name == path.stem
    assert study.samples >= 4096 and study.inception_samples in (0, 1000)
    if sweep.scheduler == "asha":
        assert sweep.num_samples >= 8 and not study.claims
    else:
        assert sweep.scheduler == "fifo" and len(sweep.seeds) >= 3 and study.claims


@pytest.mark.parametrize("path", STUDY_FILES, ids=lambda p: p.stem)
def test_smoke_profile_trains_every_trial_in_process(path, tmp_path):
    """Every arm / grid point of the smoke profile builds and takes real gradient steps (no Ray:
    the end-to-end test below covers Tune)."""
    prepared = prepare_sweep(path, smoke(tmp_path, *NO_PERCEPTUAL.get(path.stem, [])))
    assert prepared.sweep.smoke and len(prepared.sweep.seeds) <= 1 and prepared.config.data.name == "shapes"
    keys = [d.key for d in prepared.dimensions]
    grid = [d for d in prepared.dimensions if d.kind == "grid_search"]
    drawn = {d.path: d.probe_values()[0] for d in prepared.dimensions if d.kind != "grid_search"}
    points = list(itertools.product(*(d.args for d in grid)))
    assert len(points) * prepared.sweep.num_samples == prepared.total_trials
    for values in points:
        trial_config = nested({**{d.path: v for d, v in zip(grid, values)}, **drawn})
        config, trainer_cfg = trial_configs(prepared.base, keys, trial_config, prepared.arms)
        plain = {**to_dict(config), "trainer": section_dict(trainer_cfg)}
        for key, value in prepared.arms.get(trial_config.get("arm"), {}).items():  # the arm reached the trial
            node = plain
            for part in key.split("."):
                node = node[part]
            assert node == value, (trial_config, key)
        trainer = IndividualTrainer(config, trainer_cfg, prepared.data.train, prepared.data.holdout)
        record = trainer.iterate(2, lambda images: float(images.float().mean()))
        assert record["step"] == 2 and math.isfinite(record["loss_g"]) and record["train_seconds"] > 0


# ----------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def finished_study(ray_local, tmp_path_factory):
    """seed003_cft's smoke profile through Ray Tune (5 arms, 1 seed), then its study report."""
    storage = tmp_path_factory.mktemp("studies")
    prepared = prepare_sweep(STUDIES / "seed003_cft.yaml", smoke(storage, "trainer.steps=6", "trainer.eval_every=2"))
    results = run_sweep(prepared)
    return prepared, results


def test_study_runs_every_arm_at_equal_compute(finished_study):
    prepared, results = finished_study
    assert len(results) == 5 and not results.errors
    assert {r.config["arm"] for r in results} == {"dcgan", "cft_mr_edge", "cft_only", "mr_only", "edge_only"}
    for result in results:
        assert result.metrics["step"] == 6 and result.metrics["train_seconds"] > 0
    info = json.loads((prepared.experiment_dir / "evogan_sweep.json").read_text())
    assert info["keys"] == ["arm", "seed"] and set(info["arms"]) == {r.config["arm"] for r in results}
    assert info["machine"]["cores"] and info["inputs"]["study"]["claims"] and info["smoke"] is True
    dirs = sorted(p.name for p in prepared.experiment_dir.iterdir() if p.is_dir())
    assert any("arm=cft_mr_edge" in name for name in dirs)


def test_study_report_scores_final_generators_and_judges_claims(finished_study, tmp_path):
    from evogan.studies.__main__ import main

    prepared, _ = finished_study
    out = tmp_path / "report"
    assert main([str(prepared.experiment_dir), "--out", str(out), "--samples", "64", "--real-samples", "256",
                 "--inception", "0", "--cache-dir", str(tmp_path / "cache")]) == 0
    text = (out / "report.md").read_text()
    assert "| row | seeds | steps | s/step | fid_domain_64 | is_domain_64 |" in text
    for arm in ("dcgan", "cft_mr_edge", "cft_only", "mr_only", "edge_only"):
        assert f"| {arm} | 1 | 6 |" in text
    claims = prepared.study["claims"]
    verdict_lines = [line for line in text.splitlines() if line.startswith("- **")]
    assert len(verdict_lines) == len(claims) and all("**inconclusive**" in line for line in verdict_lines)  # 1 seed
    assert "Smoke profile" in text and "python -m evogan.sweep --config" in text
    for png in ("curves.png", "final.png", "samples.png"):
        assert (out / png).stat().st_size > 1000, png
    results = json.loads((out / "results.json").read_text())
    assert {t["group"] for t in results["trials"]} == {"dcgan", "cft_mr_edge", "cft_only", "mr_only", "edge_only"}
    for trial in results["trials"]:
        figures = trial["figures"]
        assert figures["steps"] == 6 and figures["fid_domain"] > 0 and 1.0 <= figures["is_domain"] <= 8.0


def test_smoke_study_reports_at_the_smoke_scoring_profile_by_default(finished_study, tmp_path):
    """No flags: the smoke sweep recorded SMOKE_STUDY_OVERRIDES, so the report scores 256 images
    per generator and skips the Inception cross-check (seconds, not minutes, on a CPU)."""
    from evogan.studies.__main__ import main

    prepared, _ = finished_study
    assert main([str(prepared.experiment_dir), "--out", str(tmp_path / "report"), "--no-samples-plot"]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "| fid_domain_256 | is_domain_256 |" in text and "fid_inception" not in text
    assert json.loads((tmp_path / "report" / "results.json").read_text())["real_samples"] == 512


def test_smoke_shrinks_a_study_section_under_the_users_overrides():
    from evogan.tune.runner import study_section

    raw = {"study": {"samples": 4096, "inception_samples": 1000, "claims": []}}
    assert study_section(raw, [], smoke=True) == {"samples": 256, "real_samples": 512, "inception_samples": 0,
                                                  "claims": []}
    assert study_section(raw, ["study.inception_samples=100"], smoke=True)["inception_samples"] == 100
    assert study_section(raw, [])["samples"] == 4096 and raw["study"]["samples"] == 4096
    assert study_section({"sweep": {}}, [], smoke=True) == {}  # a plain sweep gets no study section


def test_study_report_of_a_non_study_directory_exits_2(tmp_path, capsys):
    from evogan.studies.__main__ import main

    assert main([str(tmp_path)]) == 2
    assert "not an evogan sweep directory" in capsys.readouterr().err


# ----------------------------------------------------------------------------- arms and seeds


def sweep_of(arms=None, seeds=(), space=None):
    raw = {"sweep": {"arms": arms or {}, "seeds": list(seeds), "search_space": space or {}}}
    sweep, _ = resolve_sections(raw, [])
    return sweep_dimensions(sweep)


def test_arms_and_seeds_become_grid_dimensions_and_expand_per_trial():
    dims, arms = sweep_of({"a": {"model.width": 8}, "b": {"model": {"width": 16, "options": {}}}, "c": None}, (0, 3))
    assert [(d.key, d.args) for d in dims] == [("arm", ("a", "b", "c")), ("seed", (0, 3))]
    assert arms == {"a": {"model.width": 8}, "b": {"model.width": 16, "model.options": {}}, "c": {}}
    base = {"data": {"num_samples": 512, "holdout": 64}, "model": {"width": 4}}
    config, _ = trial_configs(base, ["arm", "seed"], {"arm": "b", "seed": 3}, arms)
    assert config.model.width == 16 and config.seed == 3
    config, _ = trial_configs(base, ["arm", "seed"], {"arm": "c", "seed": 0}, arms)
    assert config.model.width == 4


@pytest.mark.parametrize("arms, seeds, space, message", [
    ({"a": {"data.limit": 10}}, (), {}, "sweep.arms.a: data.limit cannot be swept"),
    ({"a": {"trainer.steps": 10}}, (), {}, "trainer.steps cannot be swept"),
    ({"a b": {}}, (), {}, "arm name"),
    ({"a": 3}, (), {}, "expected a mapping"),
    ({"a": {"model.width": 8}}, (), {"model.width": {"grid_search": [8]}}, "model.width is also set by"),
    ({"a": {"model.options.x": 1}}, (), {"model.options": {"grid_search": [{}]}}, "is also set by"),
    ({}, (0, 1), {"seed": {"grid_search": [0, 1]}}, "seed is also set by"),
    ({}, (0, 0), {}, "sweep.seeds: must be distinct"),
    ({}, (), {}, "empty search space"),
])
def test_bad_arms_and_seeds_are_config_errors(arms, seeds, space, message):
    with pytest.raises(ConfigError, match=message):
        sweep_of(arms, seeds, space)


def test_smoke_keeps_the_first_seed_and_every_arm():
    raw = {"sweep": {"smoke": True, "seeds": [4, 5, 6], "arms": {"x": {}, "y": {}}}}
    sweep, base = resolve_sections(raw, [])
    assert sweep.seeds == (4,) and set(sweep.arms) == {"x", "y"} and base["data"]["name"] == "shapes"


def test_only_arms_runs_part_of_a_study_with_the_claims_between_its_arms(tmp_path):
    prepared = prepare_sweep(STUDIES / "seed004_balancer.yaml",
                             smoke(tmp_path, "sweep.only_arms=[mspg_sen, mspg_sen_dqn]"))
    assert set(prepared.arms) == {"mspg_sen", "mspg_sen_dqn"} and prepared.total_trials == 2
    claims = prepared.study["claims"]
    assert len(claims) == 4 and all(c["arm"] == "mspg_sen_dqn" and c["baseline"] == "mspg_sen" for c in claims)
    with pytest.raises(ConfigError, match="sweep.only_arms: 'dqn' is not an arm"):
        prepare_sweep(STUDIES / "seed004_balancer.yaml", smoke(tmp_path, "sweep.only_arms=[dqn]"))


def test_study_section_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"study.claims\[0\].metric"):
        build_study({"claims": [{"text": "t", "arm": "a", "baseline": "b", "metric": "fid"}]})
    with pytest.raises(ConfigError, match="study.reference"):
        build_study({"reference": "test"})
    with pytest.raises(ConfigError, match="study.unknown"):
        build_study({"unknown": 1})


def test_claims_must_name_arms():
    from evogan.studies.config import check_against_sweep

    study = build_study({"claims": [{"text": "t", "arm": "a", "baseline": "zz"}]})
    with pytest.raises(ConfigError, match=r"study.claims\[0\].baseline: 'zz' is not an arm"):
        check_against_sweep(study, ["arm", "seed"], {"a": {}, "b": {}})
    with pytest.raises(ConfigError, match="study.heatmap: model.width is not swept"):
        check_against_sweep(build_study({"heatmap": ["model.width", "seed"]}), ["seed"], {})


# ----------------------------------------------------------------------------- stability and verdicts


def test_stability_figures_on_constructed_curves():
    assert collapse_events([100, 80, 60, 95, 50, float("nan")]) == 2  # 95 > 1.5 * 60, and the NaN
    assert collapse_events([100, 140, 120]) == 0
    assert oscillation_events([100, 80, 100, 70, 71, 90, 60]) == 2   # peaks at 100 and 90, not 71
    assert variance([1.0, 3.0]) == 1.0 and math.isnan(variance([2.0]))
    rows = [{"step": 10 * i, "fid_domain_64": f, "train_loss_g": g, "train_loss_d": 1.0}
            for i, (f, g) in enumerate([(300, 9.0), (200, 1.0), (320, 3.0), (150, 1.0)])]
    figures = stability(rows, "fid_domain_64")
    assert figures == {"var_loss_g": pytest.approx(8 / 9), "var_loss_d": 0.0, "collapses": 1.0, "oscillations": 1.0}


def test_verdicts_follow_a_one_sided_welch_test():
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0, 3)
    better, worse = [10.0, 11.0, 12.0], [20.0, 21.0, 19.5]
    assert verdict(better, worse, higher_is_better=False)[0] == "holds"
    assert verdict(worse, better, higher_is_better=False)[0] == "does not hold"
    assert verdict(worse, better, higher_is_better=True)[0] == "holds"           # IS: higher is better
    assert verdict([10.0, 30.0, 20.0], [12.0, 28.0, 21.0], higher_is_better=False)[0] == "inconclusive"
    assert verdict([10.0], [20.0, 21.0], higher_is_better=False)[0] == "inconclusive"  # one seed: no test
    assert verdict([0.0, 0.0, 0.0], [2.0, 2.0, 2.0], higher_is_better=False)[0] == "holds"  # no spread



def test_heat_map_and_stability_plots_from_constructed_rows(tmp_path):
    from evogan.studies.report import heatmap_norm, plot_heatmap, plot_stability, seeds_label

    rows = []
    for lr in (5e-5, 2e-4, 1e-3):
        for latent in (32, 64):
            fids = [100 * lr * 1e3 + latent + s for s in range(3)]
            rows.append({"group": f"lr={lr}, latent={latent}", "assignments": {"train.lr_g": lr, "train.lr_d": lr,
                                                                                "model.latent_dim": latent},
                         "values": {"fid_domain": fids, "collapses": [0, 1, 0], "oscillations": [1, 0, 0],
                                    "var_loss_d": [0.1, 0.2, 0.3], "best_fid": fids},
                         "stats": {"fid_domain": mean_std(fids)}})
    heat = plot_heatmap(rows, ("model.latent_dim", "train.lr_g,train.lr_d"), "fid_domain", "fid_domain_4k",
                        tmp_path / "heatmap.png")
    assert heat.stat().st_size > 5000
    assert seeds_label(rows, "fid_domain") == "3 seeds"
    assert heatmap_norm(np.array([[30.0, 1200.0], [np.nan, 200.0]])).vmin == 30.0      # > 10x: log scale
    assert heatmap_norm(np.array([[30.0, 200.0]])) is None                              # linear
    assert seeds_label(rows[:1] + [{**rows[1], "values": {"fid_domain": [1.0]}}], "fid_domain") == "1-3 seeds"
    assert seeds_label([{**rows[1], "values": {"fid_domain": [1.0]}}], "fid_domain") == "1 seed"
    stab = plot_stability(rows[::2], "train.lr_g,train.lr_d", {"fid_domain": "fid_domain_4k"}, "fid_domain_512",
                          tmp_path / "stability.png")
    assert stab.stat().st_size > 5000
