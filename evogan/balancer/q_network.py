"""The balancer's Q-network (seed 004, Fig. 5: "the DQN balancer takes the current state ... as
input, selects actions"): a small MLP from the state vector to one Q-value per action."""

from __future__ import annotations

from torch import nn


class QNetwork(nn.Module):
    """state (n, state_dim) -> Q-values (n, num_actions); ``layers`` hidden ReLU layers of ``hidden``."""

    def __init__(self, state_dim: int, num_actions: int, hidden: int = 64, layers: int = 2):
        super().__init__()
        blocks: list[nn.Module] = []
        width = state_dim
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        blocks.append(nn.Linear(width, num_actions))
        self.net = nn.Sequential(*blocks)

    def forward(self, state):
        return self.net(state)
