"""Glue between a training loop and the DQN balancer (seed 004, Fig. 5: "the generator
generating the image, the discriminator evaluates the generated image and calculates the
reward. The DQN balancer takes the current state ... selects actions ... and updates the
strategy based on rewards. Interactive experiences ... are stored in the experience playback pool").

Every ``act_every`` gradient steps the controller: probes D on fresh fakes and held-out reals
(the observation), turns it into a state, rewards the previous action, stores the transition,
updates the DQN, and picks the next action, which it applies to the Member (learning rates) or
holds for the next ``act_every`` steps (which sides train). :meth:`BalancerController.train`
is a drop-in for ``Member.train``.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import torch

from evogan.balancer.agent import DQNAgent
from evogan.balancer.config import BalancerConfig
from evogan.balancer.env import BalanceEnv, probe, training_sides
from evogan.seeding import derive_seed


class BalancerController:
    def __init__(self, cfg: BalancerConfig, member, holdout: torch.Tensor, seed: int):
        self.cfg = cfg
        self.env = BalanceEnv(cfg, member.hp.lr_g, member.hp.lr_d)
        self.agent = DQNAgent(self.env.state_dim, len(cfg.actions), cfg, seed=derive_seed(seed, "dqn") % 2 ** 31)
        self.holdout = holdout
        self.probe_generator = torch.Generator().manual_seed(derive_seed(seed, "probe"))
        self.previous_obs: dict[str, float] | None = None
        self.previous_state: torch.Tensor | None = None
        self.previous_action: int | None = None
        self.sides = (True, True)
        self.since_decision = 0
        self._stats = self._empty_stats()

    # ---------------------------------------------------------------- training
    def train(self, member, steps: int, images: torch.Tensor, batch_size: int,
              gen: torch.Generator) -> dict[str, float]:
        """``member.train`` for ``steps`` steps with a balancer decision every ``act_every`` steps.

        Returns the step-weighted mean of the training scalars, like ``Member.train``.
        """
        totals: dict[str, float] = {}
        done = 0
        while done < steps:
            # max(1, ...): act_every may have shrunk below since_decision (a PBT perturbation)
            chunk = min(max(1, self.cfg.act_every - self.since_decision), steps - done)
            with training_sides(member, *self.sides):
                scalars = member.train(chunk, images, batch_size, gen)
            for key, value in scalars.items():
                totals[key] = totals.get(key, 0.0) + value * chunk
            done += chunk
            self.since_decision += chunk
            if not all(math.isfinite(v) for v in scalars.values()):
                break  # non-finite: let the caller see it, as Member.train does
            if self.since_decision >= self.cfg.act_every:
                self.decide(member)
                self.since_decision = 0
        return {key: value / max(done, 1) for key, value in totals.items()}

    def decide(self, member) -> int:
        """Observe, reward and store the last action, learn, then pick and apply the next action."""
        obs = probe(member, self.holdout, self.cfg.probe_samples, self.probe_generator)
        state = self.env.state(obs, self.previous_obs, member.hp)
        if self.previous_state is not None:
            reward, done = self.env.reward(obs, self.previous_obs)
            self.agent.remember(self.previous_state, self.previous_action, reward, state, done)
            loss = self.agent.learn()
            self._record(reward, loss)
        action = self.agent.act(state)
        self.sides = self.env.apply(action, member)
        self._stats["actions"][self.env.actions[action]] += 1
        self.previous_obs, self.previous_state, self.previous_action = obs, state, action
        return action

    # ---------------------------------------------------------------- PBT and reporting
    def set_config(self, cfg: BalancerConfig, hp) -> None:
        """Adopt perturbed balancer hyperparameters and learning rates (a PBT exploit/explore)."""
        if tuple(cfg.actions) != tuple(self.cfg.actions):
            raise ValueError("balancer.actions cannot change on a live balancer")
        self.cfg = cfg
        self.env = BalanceEnv(cfg, hp.lr_g, hp.lr_d)
        self.agent.set_config(cfg)

    @staticmethod
    def _empty_stats() -> dict[str, Any]:
        return {"rewards": [], "losses": [], "actions": Counter()}

    def _record(self, reward: float, loss: float | None) -> None:
        self._stats["rewards"].append(reward)
        if loss is not None:
            self._stats["losses"].append(loss)

    def pop_stats(self) -> dict[str, float]:
        """Scalars since the last call: mean reward, mean TD loss, epsilon, share of each action."""
        stats, self._stats = self._stats, self._empty_stats()
        decisions = sum(stats["actions"].values())
        out = {"balancer_epsilon": self.agent.epsilon, "balancer_decisions": float(decisions)}
        if stats["rewards"]:
            out["balancer_reward"] = sum(stats["rewards"]) / len(stats["rewards"])
        if stats["losses"]:
            out["balancer_td_loss"] = sum(stats["losses"]) / len(stats["losses"])
        for name in self.env.actions:
            out[f"balancer_action_{name}"] = stats["actions"][name] / decisions if decisions else 0.0
        return out

    # ---------------------------------------------------------------- checkpointing
    def state_dict(self) -> dict[str, Any]:
        return {"agent": self.agent.state_dict(), "previous_obs": self.previous_obs,
                "previous_state": self.previous_state, "previous_action": self.previous_action,
                "sides": list(self.sides), "since_decision": self.since_decision,
                "base_lr": dict(self.env.base_lr), "probe_generator": self.probe_generator.get_state()}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Restore the learner and the pending transition; base learning rates are kept from
        the saved state (call :meth:`set_config` afterwards when PBT changed them)."""
        self.agent.load_state_dict(saved["agent"])
        self.previous_obs, self.previous_state = saved["previous_obs"], saved["previous_state"]
        self.previous_action = saved["previous_action"]
        self.sides = tuple(saved["sides"])
        self.since_decision = saved["since_decision"]
        self.env.base_lr = dict(saved["base_lr"])
        self.probe_generator.set_state(saved["probe_generator"])
