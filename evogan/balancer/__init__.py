"""DQN balancer of G/D training (seed 004, MSPG-SEN, Fig. 5): pure torch, no Ray.

The balancer observes a GAN's state (generator output statistics and discriminator scores),
picks a discrete action that adjusts how G and D train, is rewarded from the discriminator's
evaluation, and learns from replayed experience. See :mod:`evogan.balancer.env` for the exact
state, actions and reward, and :mod:`evogan.balancer.controller` for how a training loop uses it.
"""

from evogan.balancer.agent import DQNAgent
from evogan.balancer.config import ACTIONS, BalancerConfig, validate_balancer
from evogan.balancer.controller import BalancerController
from evogan.balancer.env import STATE_FEATURES, BalanceEnv
from evogan.balancer.replay import ReplayBuffer

__all__ = ["ACTIONS", "BalancerConfig", "BalancerController", "BalanceEnv", "DQNAgent",
           "ReplayBuffer", "STATE_FEATURES", "validate_balancer"]
