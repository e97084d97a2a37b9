"""Real Ray Tune sweeps on tiny DCGANs (shapes, width 8, latent 16, 28 px) with the shared FID actor:
ASHA finishes and reports every metric with TensorBoard logs, the best trial exports as a generator
checkpoint, and PBT's perturbed learning rates reach the restored trials' optimisers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from evogan.config import ConfigError
from evogan.io.checkpoint import load_checkpoint, load_generator
from evogan.tune.export import export_best
from evogan.tune.runner import prepare_sweep, run_sweep

TINY = ["data.num_samples=512", "data.holdout=64", "data.resolution=28", "model.variant=dcgan", "model.width=8",
        "model.latent_dim=16", "train.batch_size=16", "fitness.eval_samples=64", "metrics.real_samples=256",
        "trainer.steps=8", "trainer.eval_every=4", "sweep.num_samples=2", "sweep.cpus_per_trial=1",
        "sweep.verbose=0", "sweep.search_space={train.lr_g: {loguniform: [1.0e-4, 1.0e-3]}}"]
REPORTED = ("fid_domain_64", "fid", "real_score", "fake_score", "loss_g", "loss_d", "d_accuracy",
            "optimizer_lr_g", "step")


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sweeps")


def overrides(storage: Path, name: str, *extra: str) -> list[str]:
    return TINY + [f"sweep.storage_path={storage}", f"sweep.name={name}", f"metrics.cache_dir={storage / 'cache'}",
                   *extra]


def reported_fids(experiment: Path) -> list[float]:
    """Every fid_domain_64 any trial reported (progress.csv: Tune rewrites result.json on restores)."""
    return [float(row["fid_domain_64"]) for progress in experiment.glob("*/progress.csv")
            for row in csv.DictReader(progress.open())]


def tensorboard_tags(directory: Path) -> set[str]:
    """The scalar tags of a trial's event files: the ones evogan.run and evogan.train write."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(directory))
    events.Reload()
    return set(events.Tags()["scalars"])


@pytest.fixture(scope="module")
def asha_sweep(ray_local, storage):
    prepared = prepare_sweep(None, overrides(storage, "asha", "sweep.scheduler=asha", "sweep.asha.grace_period=2"))
    return prepared, run_sweep(prepared)


def test_asha_sweep_reports_every_metric(asha_sweep):
    prepared, results = asha_sweep
    assert len(results) == 2 and not results.errors
    for result in results:
        assert result.metrics["training_iteration"] == 2
        for key in REPORTED:
            assert key in result.metrics, key
        assert result.metrics["optimizer_lr_g"] == pytest.approx(result.config["train"]["lr_g"])
    trial_dirs = [p for p in prepared.experiment_dir.iterdir() if p.is_dir()]
    assert len(trial_dirs) == 2
    for trial in trial_dirs:
        assert list(trial.glob("events.out.tfevents.*")), f"no TensorBoard log in {trial}"
        assert {"quality/best_fid", "scores/real_score", "losses/loss_g", "final/best_fid"} <= tensorboard_tags(trial)
        assert list(trial.glob("checkpoint_*/trial.pt"))


def test_export_best_trial_loads_as_a_generator(asha_sweep, tmp_path):
    from evogan.driver import load_seed_population

    prepared, results = asha_sweep
    info = export_best(prepared.experiment_dir, tmp_path / "best.pt")
    best_fid = min(reported_fids(prepared.experiment_dir))
    assert info["fid"] == pytest.approx(best_fid)
    payload = load_checkpoint(tmp_path / "best.pt", kind="generator")
    assert payload["metric"] == "fid_domain_64" and "optimizers" not in payload["member"]
    variant, modules, config = load_generator(tmp_path / "best.pt")
    assert config.model.variant == "dcgan" and config.model.width == 8
    images = variant.generate(modules.eval(), variant.sample_latent(4, torch.Generator().manual_seed(0), "cpu"))
    assert images.shape == (4, 1, 28, 28)
    seed_weights = load_seed_population(tmp_path / "best.pt", config)  # what `evogan.run --seed-population` does
    assert set(seed_weights) == set(modules.state_dict())


def test_pbt_perturbation_reaches_the_restored_optimizer(ray_local, storage):
    prepared = prepare_sweep(None, overrides(
        storage, "pbt", "sweep.scheduler=pbt", "sweep.pbt.perturbation_interval=1", "sweep.pbt.quantile_fraction=0.5",
        "sweep.pbt.resample_probability=0.0"))
    results = run_sweep(prepared)
    assert not results.errors
    # pbt_global.txt lines: [target trial tag, donor tag, target iteration, donor iteration, old config, new config]
    lines = (prepared.experiment_dir / "pbt_global.txt").read_text().splitlines()
    perturbed = {(entry[0], entry[5]["train"]["lr_g"]) for entry in map(json.loads, lines)}
    assert perturbed, "PBT did not perturb"
    reached = []
    for trial in prepared.experiment_dir.glob("gan_trainable_*"):
        # progress.csv (not result.json, which Tune rewrites when a trial is restored) has every iteration
        for row in csv.DictReader((trial / "progress.csv").open()):
            assert float(row["optimizer_lr_g"]) == pytest.approx(float(row["lr_g"]))
            reached += [lr for tag, lr in perturbed
                        if tag in trial.name and float(row["optimizer_lr_g"]) == pytest.approx(lr, rel=1e-9)]
    assert reached, f"no restored trial trained with its perturbed lr_g {perturbed}"
    for result in results:  # a trial's last result was trained with the lr its config held then
        assert result.metrics["optimizer_lr_g"] == pytest.approx(result.metrics["lr_g"])


def test_search_space_values_are_checked_against_the_config(storage):
    with pytest.raises(ConfigError, match=r"sweep.search_space.train.lr_gg=0.001: train.lr_gg: unknown key"):
        prepare_sweep(None, overrides(storage, "bad", "sweep.search_space={train.lr_gg: {choice: [1.0e-3]}}"))
