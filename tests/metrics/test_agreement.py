"""evogan's Inception FID / KID agree with torch-fidelity's given the same weights.

torch-fidelity gets the fid-helper TorchScript's tensors converted into its own
FeatureExtractorInceptionV3 weights file (``feature_extractor_weights_path``), so both sides run
the same network; the test checks preprocessing (TF-style resize, scaling), feature extraction
and the metric formulas end to end. Sets are small (48 images) to keep CPU time low.
"""

from __future__ import annotations

import pytest
import torch

from evogan.metrics.fid import FeatureStats, frechet_distance
from evogan.metrics.kid import kernel_inception_distance

from .conftest import drawn_shapes

N = 48
PAIRS = [("tshirt_test", "bag_train"), ("tshirt_test", "shapes")]
pytestmark = pytest.mark.slow  # ~2 min of Inception on 2 CPU cores (both libraries, 3 sets of 48)


class UInt8Dataset(torch.utils.data.Dataset):
    """What torch-fidelity reads: uint8 (3, h, w) tensors."""

    def __init__(self, images: torch.Tensor):
        self.images = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i].contiguous()


@pytest.fixture(scope="session")
def image_sets(fmnist_test, fmnist_train) -> dict[str, torch.Tensor]:
    (x_test, y_test), (x_train, y_train) = fmnist_test, fmnist_train
    return {"tshirt_test": x_test[y_test == 0][:N], "bag_train": x_train[y_train == 8][:N], "shapes": drawn_shapes(N)}


@pytest.fixture(scope="session")
def fidelity_weights(inception, tmp_path_factory):
    """The TorchScript's tensors, renamed for torch-fidelity (fc zeroed: FID/KID do not use it)."""
    from evogan.metrics.inception_net import state_dict_from_torchscript

    path = tmp_path_factory.mktemp("fidelity") / "inception-from-torchscript.pth"
    torch.save(state_dict_from_torchscript(inception.module.state_dict()), path)
    return path


@pytest.fixture(scope="session")
def evogan_features(inception, image_sets) -> dict[str, torch.Tensor]:
    return {name: inception.features(images) for name, images in image_sets.items()}


@pytest.fixture(scope="session")
def fidelity_metrics(image_sets, fidelity_weights, tmp_path_factory) -> dict[tuple[str, str], dict]:
    """torch-fidelity's FID / KID per pair; its feature cache computes each set once."""
    torch_fidelity = pytest.importorskip("torch_fidelity")
    cache = tmp_path_factory.mktemp("fidelity-cache")
    out = {}
    for a, b in PAIRS:
        out[a, b] = torch_fidelity.calculate_metrics(
            input1=UInt8Dataset(image_sets[a]), input2=UInt8Dataset(image_sets[b]), cuda=False, fid=True,
            kid=True, kid_subset_size=N, kid_subsets=20, feature_extractor_weights_path=str(fidelity_weights),
            cache_root=str(cache), input1_cache_name=a, input2_cache_name=b, batch_size=32, verbose=False,
            save_cpu_ram=True)  # save_cpu_ram: no DataLoader worker processes on 2 cores
    return out


@pytest.mark.parametrize("pair", PAIRS, ids="-vs-".join)
def test_inception_fid_matches_torch_fidelity(pair, evogan_features, fidelity_metrics):
    a, b = pair
    ours = frechet_distance(*_stats(evogan_features[a]), *_stats(evogan_features[b]))
    theirs = fidelity_metrics[pair]["frechet_inception_distance"]
    assert ours > 1.0  # distinct sets: a meaningful, non-trivial distance
    assert abs(ours - theirs) <= 1e-3 * theirs, (ours, theirs)


@pytest.mark.parametrize("pair", PAIRS, ids="-vs-".join)
def test_inception_kid_matches_torch_fidelity(pair, evogan_features, fidelity_metrics):
    a, b = pair
    ours, _ = kernel_inception_distance(evogan_features[a], evogan_features[b], subsets=20, subset_size=N)
    theirs = fidelity_metrics[pair]["kernel_inception_distance_mean"]
    assert abs(ours - theirs) <= 1e-3 * abs(theirs), (ours, theirs)


def test_fid_of_a_set_with_itself_is_zero(evogan_features):
    stats = _stats(evogan_features["shapes"])
    assert frechet_distance(*stats, *stats) < 1e-6


def _stats(features: torch.Tensor):
    stats = FeatureStats.of(features)
    return stats.mean, stats.cov
