"""Replay buffer and DQN agent of the balancer (seed 004): determinism, learning, checkpoints."""

from __future__ import annotations

import io
import time

import pytest
import torch

from evogan.balancer import BalancerConfig, DQNAgent, ReplayBuffer


def _filled(seed: int, pushes: int = 30) -> ReplayBuffer:
    buffer = ReplayBuffer(capacity=20, state_dim=3, seed=seed)
    for i in range(pushes):
        buffer.push([i, i + 1, i + 2], i % 4, float(i), [i + 1, i + 2, i + 3], i % 7 == 0)
    return buffer


def test_replay_is_a_ring_and_sampling_is_seeded():
    a, b = _filled(5), _filled(5)
    assert len(a) == 20 and a.position == 10
    assert set(a.rewards.tolist()) == set(float(i) for i in range(10, 30))  # oldest 10 overwritten
    for _ in range(3):
        x, y = a.sample(8), b.sample(8)
        assert all(torch.equal(u, v) for u, v in zip(x, y))
    assert not torch.equal(_filled(6).sample(8).rewards, _filled(5).sample(8).rewards)


def test_replay_state_round_trips_through_weights_only_load():
    a = _filled(1)
    a.sample(4)
    handle = io.BytesIO()
    torch.save(a.state_dict(), handle)
    handle.seek(0)
    b = ReplayBuffer(capacity=20, state_dim=3, seed=99)
    b.load_state_dict(torch.load(handle, weights_only=True))
    assert torch.equal(a.sample(16).states, b.sample(16).states)
    a.push([0, 0, 0], 1, -5.0, [0, 0, 0], True)
    b.push([0, 0, 0], 1, -5.0, [0, 0, 0], True)
    assert torch.equal(a.rewards, b.rewards)


def test_epsilon_decays_linearly():
    agent = DQNAgent(2, 2, BalancerConfig(eps_start=1.0, eps_end=0.1, eps_decay=10), seed=0)
    seen = []
    for _ in range(12):
        seen.append(agent.epsilon)
        agent.act([0.0, 0.0])
    assert seen[0] == 1.0 and seen[5] == pytest.approx(0.55) and seen[10] == seen[11] == pytest.approx(0.1)


def _run_chain(agent: DQNAgent, length: int, steps: int) -> None:
    """A chain: action 1 moves right, 0 moves left; reaching the right end pays 1 and ends the episode."""
    position = 0
    for _ in range(steps):
        state = torch.nn.functional.one_hot(torch.tensor(position), length).float()
        action = agent.act(state)
        position = max(0, position + (1 if action == 1 else -1))
        done = position == length - 1
        reward = 1.0 if done else -0.01
        agent.remember(state, action, reward, torch.nn.functional.one_hot(torch.tensor(position), length).float(), done)
        agent.learn()
        if done:
            position = 0


def test_agent_learns_a_chain_in_under_five_seconds():
    length = 5
    cfg = BalancerConfig(gamma=0.9, lr=5e-3, hidden=32, buffer_size=1000, batch_size=32, learn_start=32,
                         target_sync=25, eps_start=1.0, eps_end=0.05, eps_decay=400)
    agent = DQNAgent(length, 2, cfg, seed=3)
    started = time.perf_counter()
    _run_chain(agent, length, steps=1200)
    elapsed = time.perf_counter() - started
    greedy = [agent.act(torch.nn.functional.one_hot(torch.tensor(i), length).float(), explore=False)
              for i in range(length - 1)]
    assert greedy == [1] * (length - 1), greedy
    assert elapsed < 5.0, elapsed


def test_agent_learns_a_two_armed_bandit():
    cfg = BalancerConfig(gamma=0.0, lr=1e-2, hidden=16, buffer_size=200, batch_size=16, learn_start=16,
                         eps_decay=100)
    agent = DQNAgent(1, 3, cfg, seed=0)
    gen = torch.Generator().manual_seed(0)
    state = torch.ones(1)
    for _ in range(300):
        action = agent.act(state)
        reward = float(torch.randn((), generator=gen) * 0.1) + (1.0 if action == 2 else 0.0)
        agent.remember(state, action, reward, state, True)
        agent.learn()
    assert agent.act(state, explore=False) == 2
    q = agent.online(state[None])[0]
    assert q[2].item() == pytest.approx(1.0, abs=0.2)


def test_agent_state_dict_continues_exactly():
    cfg = BalancerConfig(learn_start=8, batch_size=8, buffer_size=64, eps_decay=20)
    a, b = DQNAgent(5, 2, cfg, seed=1), DQNAgent(5, 2, cfg, seed=2)
    _run_chain(a, 5, steps=40)
    handle = io.BytesIO()
    torch.save(a.state_dict(), handle)
    handle.seek(0)
    b.load_state_dict(torch.load(handle, weights_only=True))
    _run_chain(a, 5, steps=20)
    _run_chain(b, 5, steps=20)
    for (name, x), y in zip(a.online.state_dict().items(), b.online.state_dict().values()):
        assert torch.equal(x, y), name
    assert a.decisions == b.decisions and a.updates == b.updates


def test_set_config_changes_learning_rate_and_refuses_shape_changes():
    agent = DQNAgent(3, 2, BalancerConfig(), seed=0)
    agent.set_config(BalancerConfig(lr=0.5, gamma=0.5))
    assert agent.optimizer.param_groups[0]["lr"] == 0.5 and agent.cfg.gamma == 0.5
    with pytest.raises(ValueError, match="hidden"):
        agent.set_config(BalancerConfig(hidden=7))
