"""Real image sets for the metric tests: Fashion-MNIST (IDX .gz) and procedurally drawn shapes."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (LeCun's MNIST format, gzip-compressed): magic, dims, then raw uint8."""
    with gzip.open(path) as handle:
        data = handle.read()
    ndim = data[3]
    dims = np.frombuffer(data, ">u4", ndim, 4).astype(int)
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion_mnist(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(images uint8 (n, 1, 28, 28), labels int64) of the train or t10k split."""
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(FASHION_MNIST / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(FASHION_MNIST / f"{prefix}-labels-idx1-ubyte.gz")
    return torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


def drawn_shapes(n: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    """uint8 RGB images (n, 3, size, size) of a filled rectangle or disc on a coloured background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    out = np.empty((n, 3, size, size), np.uint8)
    for i in range(n):
        background, colour = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        cy, cx, r = rng.integers(size // 4, 3 * size // 4, 2).tolist() + [int(rng.integers(3, size // 3))]
        if rng.random() < 0.5:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        else:
            mask = (abs(yy - cy) <= r) & (abs(xx - cx) <= r // 2 + 1)
        out[i] = np.where(mask, colour[:, None, None], background[:, None, None])
    return torch.from_numpy(out)


@pytest.fixture(scope="session")
def fmnist_test() -> tuple[torch.Tensor, torch.Tensor]:
    if not FASHION_MNIST.is_dir():
        pytest.skip(f"{FASHION_MNIST} not installed")
    return fashion_mnist("test")


@pytest.fixture(scope="session")
def fmnist_train() -> tuple[torch.Tensor, torch.Tensor]:
    if not FASHION_MNIST.is_dir():
        pytest.skip(f"{FASHION_MNIST} not installed")
    return fashion_mnist("train")


@pytest.fixture(scope="session")
def inception_path() -> Path:
    from evogan.metrics.inception import inception_weights_path

    try:
        return inception_weights_path(download=False)
    except FileNotFoundError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def inception(inception_path):
    from evogan.metrics.inception import InceptionExtractor

    return InceptionExtractor(inception_path, batch_size=32)
