"""The standalone gradient loop (evogan.training.loop) with a real tiny DCGAN and an injected
quality function: records, balancer switch, exact resume, PBT-style hyperparameter adoption."""

from __future__ import annotations

import io

import pytest
import torch

from evogan.balancer import BalancerConfig
from evogan.config import ConfigError
from evogan.data import load_data
from evogan.io.checkpoint import load_generator, save_checkpoint
from evogan.hyperparameters import Hyperparameters
from evogan.training.loop import IndividualTrainer, run_loop
from evogan.training.loop_config import TrainerConfig, load_with_sections, validate_trainer

TINY = ["data.num_samples=256", "data.holdout=32", "data.resolution=28", "model.width=8", "model.latent_dim=16",
        "train.batch_size=8", "fitness.eval_samples=32", "device=cpu"]


def pixel_mean_quality(images: torch.Tensor) -> float:
    """A cheap stand-in for FID in loop-only tests (the CLI test uses the real scorer)."""
    return float(images.float().mean())


def make_trainer(overrides=()):
    config, sections, _ = load_with_sections(None, TINY + list(overrides), {"trainer": TrainerConfig})
    validate_trainer(sections["trainer"], config)
    data = load_data(config.data, seed=config.seed)
    return IndividualTrainer(config, sections["trainer"], data.train, data.holdout), data


def test_loop_records_every_evaluation():
    trainer, _ = make_trainer(["trainer.steps=10", "trainer.eval_every=4"])
    seen = []
    records = run_loop(trainer, 10, 4, pixel_mean_quality, seen.append)
    assert [r["step"] for r in records] == [4, 8, 10] and seen == records
    for key in ("fid", "real_score", "fake_score", "loss_g", "loss_d", "d_accuracy", "train_loss_g",
                "lr_g", "optimizer_lr_g", "optimizer_lr_d"):
        assert key in records[-1], key
    assert "balancer_epsilon" not in records[-1]


def test_balancer_switch_adds_its_statistics():
    trainer, _ = make_trainer(["trainer.balancer.enabled=true", "trainer.balancer.act_every=2",
                               "trainer.balancer.probe_samples=16", "trainer.balancer.learn_start=2",
                               "trainer.balancer.batch_size=2"])
    record = trainer.iterate(8, pixel_mean_quality)
    assert record["balancer_decisions"] == 4 and "balancer_reward" in record


def test_resume_continues_exactly():
    overrides = ["trainer.balancer.enabled=true", "trainer.balancer.act_every=3", "trainer.balancer.probe_samples=16",
                 "trainer.balancer.learn_start=2", "trainer.balancer.batch_size=2"]
    straight, _ = make_trainer(overrides)
    straight.iterate(5, pixel_mean_quality)
    expected = straight.iterate(5, pixel_mean_quality)
    first, _ = make_trainer(overrides)
    first.iterate(5, pixel_mean_quality)
    handle = io.BytesIO()
    torch.save(first.state_dict(), handle)
    handle.seek(0)
    resumed, _ = make_trainer(overrides)
    resumed.load_state_dict(torch.load(handle, weights_only=True))
    got = resumed.iterate(5, pixel_mean_quality)
    for key in ("fid", "loss_g", "loss_d", "train_loss_g", "lr_g", "lr_d", "balancer_reward"):
        assert got[key] == expected[key], key


def test_adopting_new_config_hyperparameters_reaches_the_optimizers():
    trainer, _ = make_trainer()
    assert not trainer.adopt_config_hyperparameters(Hyperparameters.from_train(trainer.config.train))
    new = Hyperparameters.from_train(trainer.config.train).replace(lr_g=1.23e-3, lr_d=4.5e-4)
    assert trainer.adopt_config_hyperparameters(new)
    assert trainer.member.optimizers["g"].param_groups[0]["lr"] == 1.23e-3
    assert trainer.member.optimizers["d"].param_groups[0]["lr"] == 4.5e-4


def test_generator_payload_loads_with_load_generator(tmp_path):
    trainer, _ = make_trainer()
    trainer.iterate(2, pixel_mean_quality)
    save_checkpoint(trainer.generator_payload(1.5, "fid_domain_32", 0), tmp_path / "best.pt")
    variant, modules, config = load_generator(tmp_path / "best.pt")
    assert config.model.variant == "dcgan" and config.model.latent_dim == 16
    for key, value in trainer.member.modules.state_dict().items():
        assert torch.equal(modules.state_dict()[key], value), key


def test_trainer_section_is_checked():
    with pytest.raises(ConfigError, match="trainer.stepz: unknown key"):
        load_with_sections(None, ["trainer.stepz=3"], {"trainer": TrainerConfig})
    config, sections, _ = load_with_sections(None, ["trainer.balancer.enabled=true",
                                                    "trainer.balancer.probe_samples=999",
                                                    "data.holdout=64"], {"trainer": TrainerConfig})
    with pytest.raises(ConfigError, match="trainer.balancer.probe_samples: must be <= data.holdout=64"):
        validate_trainer(sections["trainer"], config)
    with pytest.raises(ConfigError, match="trainer.eval_every"):
        validate_trainer(TrainerConfig(eval_every=0), config)
    assert TrainerConfig(steps=10, eval_every=4).evaluations == 3
    assert isinstance(TrainerConfig().balancer, BalancerConfig)
