"""Experience replay (seed 004, Fig. 5: "interactive experiences (state, action, reward, next
state) are stored in the experience playback pool for training DQN").

A fixed-capacity ring buffer of torch tensors; minibatches are drawn uniformly with the buffer's
own ``torch.Generator``, so the same seed and the same pushes give the same batches. The whole
buffer (contents, write position, generator state) round-trips through ``state_dict``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class Batch(NamedTuple):
    states: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_states: torch.Tensor
    dones: torch.Tensor


class ReplayBuffer:
    """Ring buffer of (state, action, reward, next_state, done) transitions."""

    def __init__(self, capacity: int, state_dim: int, seed: int = 0):
        if capacity < 1:
            raise ValueError(f"replay capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.states = torch.zeros(capacity, state_dim)
        self.actions = torch.zeros(capacity, dtype=torch.long)
        self.rewards = torch.zeros(capacity)
        self.next_states = torch.zeros(capacity, state_dim)
        self.dones = torch.zeros(capacity)
        self.position = 0
        self.size = 0
        self.generator = torch.Generator().manual_seed(int(seed) % (2 ** 63))

    def __len__(self) -> int:
        return self.size

    def push(self, state, action: int, reward: float, next_state, done: bool) -> None:
        """Store one transition, overwriting the oldest once full."""
        i = self.position
        self.states[i] = torch.as_tensor(state, dtype=torch.float32)
        self.actions[i] = int(action)
        self.rewards[i] = float(reward)
        self.next_states[i] = torch.as_tensor(next_state, dtype=torch.float32)
        self.dones[i] = float(done)
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> Batch:
        """``batch_size`` transitions drawn uniformly with replacement."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        index = torch.randint(0, self.size, (batch_size,), generator=self.generator)
        return Batch(self.states[index], self.actions[index], self.rewards[index],
                     self.next_states[index], self.dones[index])

    def state_dict(self) -> dict:
        """Only tensors and ints: loadable with ``torch.load(weights_only=True)``."""
        n = self.size
        return {"capacity": self.capacity, "position": self.position, "size": n,
                "states": self.states[:n].clone(), "actions": self.actions[:n].clone(),
                "rewards": self.rewards[:n].clone(), "next_states": self.next_states[:n].clone(),
                "dones": self.dones[:n].clone(), "generator": self.generator.get_state()}

    def load_state_dict(self, saved: dict) -> None:
        if saved["capacity"] != self.capacity or saved["states"].shape[1:] != self.states.shape[1:]:
            raise ValueError("replay state does not match this buffer's capacity or state size")
        n = saved["size"]
        for name in ("states", "actions", "rewards", "next_states", "dones"):
            getattr(self, name)[:n] = saved[name]
        self.position, self.size = saved["position"], n
        self.generator.set_state(saved["generator"])
