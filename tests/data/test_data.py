"""The dataset layer on real files: shapes, Fashion-MNIST IDX, image folders, bad data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from evogan.config import DataConfig
from evogan.data import DataError, load_data, to_float, to_uint8
from evogan.data.shapes import NUM_MODES, render_shapes

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def test_shapes_is_deterministic_and_covers_every_mode():
    a, labels = render_shapes(400, 32, 1, seed=3)
    b, _ = render_shapes(400, 32, 1, seed=3)
    assert a.dtype == torch.uint8 and a.shape == (400, 1, 32, 32)
    assert torch.equal(a, b)
    assert set(labels.tolist()) == set(range(NUM_MODES))
    # modes differ on average: mean images of two modes are far apart
    means = torch.stack([a[labels == m].float().mean(0) for m in range(NUM_MODES)])
    gaps = torch.cdist(means.flatten(1), means.flatten(1))
    assert gaps[~torch.eye(NUM_MODES, dtype=bool)].min() > 100


def test_load_shapes_splits_holdout_and_limit():
    data = load_data(DataConfig(num_samples=600, holdout=100, limit=200, resolution=28, channels=3), seed=1)
    assert data.train.shape == (200, 3, 28, 28)
    assert data.holdout.shape == (100, 3, 28, 28)
    assert data.train_labels.shape == (200,)
    images = to_float(data.train)
    assert images.min() >= -1 and images.max() <= 1
    assert torch.equal(to_uint8(images), data.train)


def test_fashion_mnist_from_debian_idx_files():
    assert FASHION_MNIST.is_dir(), "install Debian's dataset-fashion-mnist (see README)"
    data = load_data(DataConfig(name="fashion_mnist", root=str(FASHION_MNIST), resolution=32,
                                channels=1, holdout=256, limit=1000))
    assert data.train.shape == (1000, 1, 32, 32)
    assert data.train_labels.max() == 9
    assert data.train.float().mean() > 10  # real images, not blanks
    test = load_data(DataConfig(name="fashion_mnist", root=str(FASHION_MNIST), split="test",
                                resolution=28, channels=1, holdout=64))
    assert len(test.train) + len(test.holdout) == 10000


def _write_images(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")


def test_image_folder_skips_and_counts_corrupt_files(tmp_path):
    _write_images(tmp_path / "faces" / "sub", 40)
    (tmp_path / "faces" / "broken.jpg").write_bytes(b"not a jpeg")
    data = load_data(DataConfig(name="image_folder", root=str(tmp_path / "faces"), resolution=64,
                                channels=3, holdout=8))
    assert data.skipped == 1
    assert data.train.shape == (32, 3, 64, 64)
    assert data.train_labels is None


@pytest.mark.parametrize("name", ["image_folder", "fashion_mnist", "mnist", "cifar10"])
def test_missing_root_names_the_path(tmp_path, name):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError, match=str(missing)):
        load_data(DataConfig(name=name, root=str(missing)))


def test_empty_and_unreadable_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image files"):
        load_data(DataConfig(name="image_folder", root=str(tmp_path / "empty")))
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(3):
        (bad / f"{i}.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match="none of 3"):
        load_data(DataConfig(name="image_folder", root=str(bad)))
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "train-images-idx3-ubyte.gz").write_bytes(b"\x00\x01")
    (tmp_path / "idx" / "train-labels-idx1-ubyte.gz").write_bytes(b"\x00\x01")
    with pytest.raises(DataError, match="idx"):
        load_data(DataConfig(name="fashion_mnist", root=str(tmp_path / "idx")))


def test_too_few_images_for_holdout(tmp_path):
    _write_images(tmp_path / "few", 10)
    with pytest.raises(DataError, match="only 10 images"):
        load_data(DataConfig(name="image_folder", root=str(tmp_path / "few"), holdout=8))
