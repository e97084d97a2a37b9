"""Fixtures for variant tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    """Tiny models gain nothing from intra-op threads, and on a busy 2-core machine OpenMP
    spin-waiting makes them up to 20x slower; population actors run with ray.torch_threads=1 too."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)
