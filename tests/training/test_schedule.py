"""Learning-rate schedules (evogan.training.schedule), their validation, and the standalone
trainer's optimisers following them (alone, with mspg_sen's per-step rates and with the balancer)."""

from __future__ import annotations

import io
import math

import pytest
import torch

from evogan import validation
from evogan.config import ConfigError, TrainConfig
from evogan.data import load_data
from evogan.hyperparameters import Hyperparameters
from evogan.training.loop import IndividualTrainer
from evogan.training.loop_config import TrainerConfig, load_with_sections, validate_trainer
from evogan.training.schedule import lr_factor, scheduled

TINY = ["data.num_samples=256", "data.holdout=32", "data.resolution=28", "model.width=8", "model.latent_dim=16",
        "train.batch_size=8", "fitness.eval_samples=32", "device=cpu"]


def quality(images: torch.Tensor) -> float:
    return float(images.float().mean())


def make_trainer(overrides=()):
    config, sections, _ = load_with_sections(None, TINY + list(overrides), {"trainer": TrainerConfig})
    validate_trainer(sections["trainer"], config)
    data = load_data(config.data, seed=config.seed)
    return IndividualTrainer(config, sections["trainer"], data.train, data.holdout)


def optimizer_lrs(trainer) -> dict[str, float]:
    return {group: opt.param_groups[0]["lr"] for group, opt in trainer.member.optimizers.items()}


def test_factors_at_known_indices():
    step = TrainConfig(lr_schedule="step", lr_step_size=3, lr_gamma=0.5)
    assert [lr_factor(step, i, 10) for i in (0, 2, 3, 5, 6, 9)] == [1, 1, 0.5, 0.5, 0.25, 0.125]
    cosine = TrainConfig(lr_schedule="cosine", lr_min_factor=0.1)
    assert lr_factor(cosine, 0, 5) == pytest.approx(1.0)
    assert lr_factor(cosine, 2, 5) == pytest.approx(0.55)  # half way: (1 + 0.1) / 2
    assert lr_factor(cosine, 1, 5) == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 4)) / 2)
    assert lr_factor(cosine, 4, 5) == pytest.approx(0.1)
    assert lr_factor(cosine, 7, 5) == pytest.approx(0.1)  # past the end: stays at the minimum
    assert lr_factor(cosine, 0, 1) == 1.0
    assert lr_factor(TrainConfig(), 17, 20) == 1.0


def test_scheduled_scales_only_the_learning_rates():
    hp = Hyperparameters(lr_g=2e-3, lr_d=4e-3, beta1=0.3, loss="hinge", augment=("cutout",))
    out = scheduled(hp, 0.25)
    assert (out.lr_g, out.lr_d) == (5e-4, 1e-3)
    assert out.replace(lr_g=hp.lr_g, lr_d=hp.lr_d) == hp
    assert scheduled(hp, 1.0) is hp


@pytest.mark.parametrize("override, key", [
    ("train.lr_schedule=linear", "train.lr_schedule"),
    ("train.lr_step_size=0", "train.lr_step_size"),
    ("train.lr_gamma=0", "train.lr_gamma"),
    ("train.lr_gamma=1.5", "train.lr_gamma"),
    ("train.lr_min_factor=0", "train.lr_min_factor"),
    ("train.augment=[rotate]", r"train.augment\[0\]"),
    ("train.augment=[cutout,cutout]", "train.augment"),
])
def test_validation_names_the_key(override, key):
    with pytest.raises(ConfigError, match=f"^{key}: "):
        validation.load(None, [override])


def test_validation_accepts_the_new_keys():
    config = validation.load(None, ["train.lr_schedule=cosine", "train.lr_min_factor=0.2",
                                    "train.augment=[color, translation, cutout]"])
    assert config.train.augment == ("color", "translation", "cutout")
    assert Hyperparameters.from_train(config.train).augment == config.train.augment


def test_trainer_optimizer_lr_follows_the_step_schedule():
    trainer = make_trainer(["trainer.steps=6", "trainer.eval_every=2", "train.lr_schedule=step",
                            "train.lr_step_size=1", "train.lr_gamma=0.5", "train.lr_g=4e-4", "train.lr_d=2e-4"])
    for k in range(3):
        record = trainer.iterate(2, quality)
        assert record["lr_factor"] == 0.5 ** k
        assert (record["lr_g"], record["lr_d"]) == (4e-4, 2e-4)  # base rates kept
        assert record["optimizer_lr_g"] == pytest.approx(4e-4 * 0.5 ** k)
        assert record["optimizer_lr_d"] == pytest.approx(2e-4 * 0.5 ** k)
        assert optimizer_lrs(trainer) == {"g": record["optimizer_lr_g"], "d": record["optimizer_lr_d"]}
        assert (trainer.member.hp.lr_g, trainer.member.hp.lr_d) == (4e-4, 2e-4)


def test_trainer_schedule_composes_with_mspg_per_step_rates():
    """mspg_sen pushes hp's rates into its optimisers on every step: they must be the scheduled ones."""
    trainer = make_trainer(["trainer.steps=4", "trainer.eval_every=2", "train.lr_schedule=cosine",
                            "train.lr_min_factor=0.25", "model.variant=mspg_sen", "model.options.apfl=false"])
    trainer.iterate(2, quality)
    trainer.iterate(2, quality)
    base = trainer.config.train.lr_g
    assert trainer.member.hp.lr_g == base
    assert optimizer_lrs(trainer) == pytest.approx({"g": base * 0.25, "d": base * 0.25, "d_aux": base * 0.25})


def test_trainer_schedule_composes_with_balancer_learning_rates():
    """The balancer moves the base rates within [initial / lr_range, initial * lr_range]; the
    optimisers hold base * factor. (Clamping in the scheduled frame against unscheduled bounds
    would push a lowered base rate up.)"""
    trainer = make_trainer(["trainer.steps=12", "trainer.eval_every=4", "train.lr_schedule=step",
                            "train.lr_step_size=1", "train.lr_gamma=0.5", "train.lr_g=3e-4", "train.lr_d=3e-4",
                            "trainer.balancer.enabled=true", "trainer.balancer.act_every=1",
                            "trainer.balancer.probe_samples=16", "trainer.balancer.learn_start=2",
                            "trainer.balancer.batch_size=2", "trainer.balancer.actions=[train_both, lr_g_down]",
                            "trainer.balancer.lr_range=1.5", "trainer.balancer.lr_factor=1.5"])
    bases = []
    for k in range(3):
        record = trainer.iterate(4, quality)
        bases.append(record["lr_g"])
        assert record["lr_g"] == pytest.approx(3e-4) or record["lr_g"] == pytest.approx(2e-4)
        assert record["lr_d"] == 3e-4
        assert record["optimizer_lr_g"] == pytest.approx(record["lr_g"] * 0.5 ** k)
        assert record["optimizer_lr_d"] == pytest.approx(3e-4 * 0.5 ** k)
        assert trainer.balancer.env.base_lr == {"lr_g": 3e-4, "lr_d": 3e-4}
    assert any(b == pytest.approx(2e-4) for b in bases[1:])  # the balancer acted under a factor < 1


def test_resume_with_a_schedule_continues_exactly():
    overrides = ["trainer.steps=6", "trainer.eval_every=2", "train.lr_schedule=step", "train.lr_step_size=1"]
    straight = make_trainer(overrides)
    straight.iterate(2, quality)
    expected = straight.iterate(2, quality)
    first = make_trainer(overrides)
    first.iterate(2, quality)
    handle = io.BytesIO()
    torch.save(first.state_dict(), handle)
    handle.seek(0)
    resumed = make_trainer(overrides)
    resumed.load_state_dict(torch.load(handle, weights_only=True))
    got = resumed.iterate(2, quality)
    for key in ("fid", "loss_g", "loss_d", "lr_g", "optimizer_lr_g", "optimizer_lr_d", "lr_factor"):
        assert got[key] == expected[key], key
