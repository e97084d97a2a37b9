"""Balancer environment and controller (seed 004) on a real tiny DCGAN member."""

from __future__ import annotations

import io
import math

import pytest
import torch

from evogan.balancer import ACTIONS, STATE_FEATURES, BalancerConfig, BalancerController, BalanceEnv
from evogan.balancer.env import NONFINITE_REWARD, probe, training_sides
from evogan.config import ConfigError, DataConfig, ModelConfig
from evogan.balancer.config import validate_balancer
from evogan.data import load_data
from evogan.models import build_variant
from evogan.hyperparameters import Hyperparameters
from evogan.training.member import Member, seeded_generator


@pytest.fixture(scope="module")
def data():
    return load_data(DataConfig(num_samples=256, holdout=32, resolution=28), seed=0)


def make_member(data, lr_g=2e-4, lr_d=2e-4) -> Member:
    variant = build_variant(ModelConfig(variant="dcgan", latent_dim=16, width=8), data.image_shape)
    return Member.create(0, variant, Hyperparameters(lr_g=lr_g, lr_d=lr_d), seed=1)


def test_probe_and_state_shapes(data):
    member = make_member(data)
    obs = probe(member, data.holdout, 16, seeded_generator(0))
    assert {"real_score", "fake_score", "d_accuracy", "loss_g", "loss_d", "g_mean", "g_std", "g_batch_std"} <= set(obs)
    env = BalanceEnv(BalancerConfig(), 2e-4, 2e-4)
    state = env.state(obs, None, member.hp)
    assert state.shape == (len(STATE_FEATURES),) == (env.state_dim,) and state.dtype == torch.float32
    assert torch.isfinite(state).all()
    assert state[5] == 0 and state[6] == 0  # no trend without a previous observation
    assert state[10] == 0 and state[11] == 0  # learning rates at their initial values


def test_reward_formula():
    env = BalanceEnv(BalancerConfig(acc_target=0.7, acc_band=0.1, band_weight=1.0, fake_weight=2.0), 1e-3, 1e-3)
    before = {"d_accuracy": 0.7, "fake_score": 0.2}
    assert env.reward({"d_accuracy": 0.75, "fake_score": 0.3}, before) == (pytest.approx(0.2), False)
    reward, done = env.reward({"d_accuracy": 1.0, "fake_score": 0.2}, before)
    assert reward == pytest.approx(-0.2) and not done
    # fooling a D that has stopped judging earns nothing: only the band penalty
    reward, _ = env.reward({"d_accuracy": 0.5, "fake_score": 0.9}, before)
    assert reward == pytest.approx(-0.1)
    reward, _ = env.reward({"d_accuracy": 0.7, "fake_score": 0.1}, {"d_accuracy": 0.4, "fake_score": 0.9})
    assert reward == pytest.approx(0.0)  # D recovering is not punished for the falling fake score
    assert env.reward({"d_accuracy": math.nan, "fake_score": 0.2}, before) == (NONFINITE_REWARD, True)


def test_lr_actions_scale_and_clamp(data):
    member = make_member(data)
    env = BalanceEnv(BalancerConfig(lr_factor=2.0, lr_range=4.0), member.hp.lr_g, member.hp.lr_d)
    up = ACTIONS.index("lr_g_up")
    for expected in (4e-4, 8e-4, 8e-4):  # clamped at 4x the initial lr
        assert env.apply(up, member) == (True, True)
        assert member.hp.lr_g == pytest.approx(expected)
        assert member.optimizers["g"].param_groups[0]["lr"] == pytest.approx(expected)
    assert env.apply(ACTIONS.index("lr_d_down"), member) == (True, True)
    assert member.optimizers["d"].param_groups[0]["lr"] == pytest.approx(1e-4)
    assert env.apply(ACTIONS.index("train_d_only"), member) == (True, False)


def test_training_sides_freezes_the_other_side(data):
    member = make_member(data)
    g_before = [p.clone() for p in member.modules["generator"].parameters()]
    d_before = [p.clone() for p in member.modules["discriminator"].parameters()]
    with training_sides(member, train_d=True, train_g=False):
        member.train(2, data.train, 8, seeded_generator(0))
    assert all(torch.equal(a, b) for a, b in zip(g_before, member.modules["generator"].parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d_before, member.modules["discriminator"].parameters()))
    assert type(member.optimizers["g"]) is torch.optim.Adam  # restored after the block


def test_controller_changes_optimizer_lrs_when_acting(data):
    member = make_member(data)
    cfg = BalancerConfig(enabled=True, act_every=2, probe_samples=16, actions=("train_both", "lr_g_up", "lr_d_down"),
                         eps_start=1.0, eps_end=1.0, learn_start=2, batch_size=2, buffer_size=16)
    controller = BalancerController(cfg, member, data.holdout, seed=0)
    scalars = controller.train(member, 12, data.train, 8, seeded_generator(1))
    assert {"loss_g", "loss_d", "real_score", "fake_score"} <= set(scalars)
    stats = controller.pop_stats()
    assert stats["balancer_decisions"] == 6 and "balancer_reward" in stats and "balancer_td_loss" in stats
    assert len(controller.agent.replay) == 5
    assert stats["balancer_action_lr_g_up"] > 0 and stats["balancer_action_lr_d_down"] > 0
    assert member.hp.lr_g > 2e-4 and member.hp.lr_d < 2e-4
    assert member.optimizers["g"].param_groups[0]["lr"] == pytest.approx(member.hp.lr_g)
    assert member.optimizers["d"].param_groups[0]["lr"] == pytest.approx(member.hp.lr_d)


def test_controller_state_round_trips(data):
    member = make_member(data)
    cfg = BalancerConfig(enabled=True, act_every=3, probe_samples=16, learn_start=2, batch_size=2, buffer_size=16)
    controller = BalancerController(cfg, member, data.holdout, seed=0)
    controller.train(member, 10, data.train, 8, seeded_generator(1))
    handle = io.BytesIO()
    torch.save(controller.state_dict(), handle)
    handle.seek(0)
    other = BalancerController(cfg, make_member(data), data.holdout, seed=5)
    other.load_state_dict(torch.load(handle, weights_only=True))
    assert other.since_decision == controller.since_decision == 1
    assert other.agent.decisions == controller.agent.decisions == 3
    assert torch.equal(other.previous_state, controller.previous_state)


def test_validate_balancer_names_the_key():
    validate_balancer(BalancerConfig())
    with pytest.raises(ConfigError, match=r"trainer.balancer.gamma: must be in \[0, 1\)"):
        validate_balancer(BalancerConfig(gamma=1.0), "trainer.balancer")
    with pytest.raises(ConfigError, match=r"balancer.actions\[1\]"):
        validate_balancer(BalancerConfig(actions=("train_both", "jump")))
    with pytest.raises(ConfigError, match="train_both"):
        validate_balancer(BalancerConfig(actions=("lr_g_up", "lr_g_down")))
