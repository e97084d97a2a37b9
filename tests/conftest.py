"""Shared fixtures: tiny real configs, a local loopback-only Ray instance."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback-only local Ray
os.environ.setdefault("RAY_DEDUP_LOGS", "0")

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"

TINY = [
    "data.num_samples=512", "data.holdout=64", "data.resolution=28",
    "model.width=8", "model.latent_dim=16",
    "train.batch_size=16", "train.steps_per_generation=3",
    "evolution.population_size=4", "evolution.num_actors=2", "evolution.generations=2",
    "fitness.eval_samples=64", "metrics.real_samples=256", "metrics.report_samples=64",
    "ray.num_cpus=2", "ray.actor_num_cpus=0.5", "ray.dashboard=false", "output.tensorboard=false",
]


@pytest.fixture(autouse=True)
def single_torch_thread():
    """Tiny models gain nothing from intra-op threads, and on a busy 2-core machine OpenMP
    spin-waiting makes them up to 20x slower; population actors run with ray.torch_threads=1 too."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_overrides(tmp_path):
    """Overrides for a run that takes seconds on 2 cores, writing under tmp_path."""
    return TINY + [f"output.root={tmp_path / 'runs'}", f"metrics.cache_dir={tmp_path / 'cache'}"]


@pytest.fixture(scope="session")
def ray_local():
    """A real local Ray instance (2 CPUs) shared by the tests that need one."""
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
