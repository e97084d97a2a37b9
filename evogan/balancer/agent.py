"""The balancer's learner (seed 004, Fig. 5: the DQN "selects actions ... and updates the
strategy based on rewards"): epsilon-greedy DQN (Mnih et al. 2015) with a target network,
Huber loss, discount gamma and a periodic target sync; optionally Double DQN.

The seed names DQN and experience replay but gives no learner details; the target network,
Huber loss, linear epsilon schedule and Double-DQN targets are the standard choices, all set
by :class:`~evogan.balancer.config.BalancerConfig`. Randomness (exploration, initial weights,
replay sampling) comes from seeded generators, and ``state_dict`` holds everything needed to
continue exactly, loadable with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import copy
import dataclasses

import torch
import torch.nn.functional as F

from evogan.balancer.config import BalancerConfig
from evogan.balancer.q_network import QNetwork
from evogan.balancer.replay import ReplayBuffer

SHAPE_FIELDS = ("hidden", "buffer_size")
"""Config fields fixed once an agent exists (they size its networks and buffer)."""


class DQNAgent:
    def __init__(self, state_dim: int, num_actions: int, cfg: BalancerConfig, seed: int = 0):
        self.state_dim, self.num_actions, self.cfg = state_dim, num_actions, cfg
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed) % (2 ** 63))
            self.online = QNetwork(state_dim, num_actions, cfg.hidden)
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=cfg.lr)
        self.replay = ReplayBuffer(cfg.buffer_size, state_dim, seed=seed + 1)
        self.generator = torch.Generator().manual_seed((int(seed) + 2) % (2 ** 63))
        self.decisions = 0
        self.updates = 0

    # ---------------------------------------------------------------- acting
    @property
    def epsilon(self) -> float:
        """Linear decay from eps_start to eps_end over eps_decay decisions."""
        cfg = self.cfg
        fraction = min(self.decisions / cfg.eps_decay, 1.0)
        return cfg.eps_start + fraction * (cfg.eps_end - cfg.eps_start)

    def greedy(self, state) -> int:
        with torch.no_grad():
            return int(self.online(torch.as_tensor(state, dtype=torch.float32)[None]).argmax(1))

    def act(self, state, explore: bool = True) -> int:
        """Epsilon-greedy action; each exploring call advances the epsilon schedule."""
        if not explore:
            return self.greedy(state)
        epsilon = self.epsilon
        self.decisions += 1
        if torch.rand((), generator=self.generator) < epsilon:
            return int(torch.randint(0, self.num_actions, (), generator=self.generator))
        return self.greedy(state)

    # ---------------------------------------------------------------- learning
    def remember(self, state, action: int, reward: float, next_state, done: bool = False) -> None:
        self.replay.push(state, action, reward, next_state, done)

    def learn(self) -> float | None:
        """``updates_per_decision`` updates once ``learn_start`` transitions are stored; mean loss."""
        if len(self.replay) < self.cfg.learn_start or self.cfg.updates_per_decision == 0:
            return None
        losses = [self.update() for _ in range(self.cfg.updates_per_decision)]
        return sum(losses) / len(losses)

    def td_targets(self, rewards, next_states, dones) -> torch.Tensor:
        """r + gamma * (1 - done) * Q_target(s', a*), a* = argmax of the online (Double DQN) or target net."""
        with torch.no_grad():
            next_target = self.target(next_states)
            chooser = self.online(next_states) if self.cfg.double_dqn else next_target
            best = chooser.argmax(1, keepdim=True)
            next_value = next_target.gather(1, best).squeeze(1)
        return rewards + self.cfg.gamma * (1.0 - dones) * next_value

    def update(self) -> float:
        """One Huber-loss step on a replayed minibatch; sync the target every ``target_sync``."""
        batch = self.replay.sample(self.cfg.batch_size)
        targets = self.td_targets(batch.rewards, batch.next_states, batch.dones)
        q = self.online(batch.states).gather(1, batch.actions[:, None]).squeeze(1)
        loss = F.smooth_l1_loss(q, targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.online.parameters(), 10.0)
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.cfg.target_sync == 0:
            self.target.load_state_dict(self.online.state_dict())
        return loss.item()

    # ---------------------------------------------------------------- configuration and state
    def set_config(self, cfg: BalancerConfig) -> None:
        """Adopt new hyperparameters (a PBT perturbation) keeping networks, buffer and counters."""
        for name in SHAPE_FIELDS:
            if getattr(cfg, name) != getattr(self.cfg, name):
                raise ValueError(f"balancer.{name} cannot change on a live agent")
        self.cfg = cfg
        for group in self.optimizer.param_groups:
            group["lr"] = cfg.lr

    def state_dict(self) -> dict:
        return {"online": self.online.state_dict(), "target": self.target.state_dict(),
                "optimizer": self.optimizer.state_dict(), "replay": self.replay.state_dict(),
                "generator": self.generator.get_state(), "decisions": self.decisions,
                "updates": self.updates, "config": dataclasses.asdict(self.cfg)}

    def load_state_dict(self, saved: dict) -> None:
        """Restore networks, buffer and counters; the current config (and its lr) is kept."""
        self.online.load_state_dict(saved["online"])
        self.target.load_state_dict(saved["target"])
        self.optimizer.load_state_dict(saved["optimizer"])
        for group in self.optimizer.param_groups:
            group["lr"] = self.cfg.lr
        self.replay.load_state_dict(saved["replay"])
        self.generator.set_state(saved["generator"])
        self.decisions, self.updates = saved["decisions"], saved["updates"]
