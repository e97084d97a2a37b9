"""Feature extractors: TF-exact resize, the Inception TorchScript and its conversion, the domain CNN."""

from __future__ import annotations

import pytest
import torch

from evogan.metrics.domain import DomainExtractor, DomainTraining
from evogan.metrics.extractors import build_extractor
from evogan.metrics.inception import inception_weights_path, is_torchscript, resize_like_tensorflow
from evogan.metrics.inception_score import MetricUnavailable

SMALL_RECIPE = DomainTraining(max_images=3000, epochs=1)


@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (2, 3, 32, 32), (2, 3, 64, 48), (1, 3, 300, 310)])
def test_resize_is_bit_exact_with_torch_fidelity(shape):
    compat = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow")
    x = torch.randint(0, 256, shape, generator=torch.Generator().manual_seed(0)).float()
    theirs = compat.interpolate_bilinear_2d_like_tensorflow1x(x, size=(299, 299), align_corners=False)
    assert torch.equal(resize_like_tensorflow(x), theirs)


def test_weights_lookup(inception_path, tmp_path):
    assert is_torchscript(inception_path)
    assert inception_weights_path(str(inception_path)) == inception_path
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        inception_weights_path(str(tmp_path / "does-not-exist.pt"))


def test_state_dict_weights_convert_to_an_equivalent_torchscript(inception, tmp_path):
    """A torchvision-named state dict (torch-fidelity's format) scripts into the same network;
    with an fc layer it also exposes the logits the Inception Score needs."""
    from evogan.metrics.inception import InceptionExtractor
    from evogan.metrics.inception_net import state_dict_from_torchscript
    from evogan.metrics.inception_score import inception_score

    state = state_dict_from_torchscript(inception.module.state_dict())
    state["fc.weight"] = torch.randn(state["fc.weight"].shape, generator=torch.Generator().manual_seed(0)) * 0.01
    state_file = tmp_path / "inception-state.pth"
    torch.save(state, state_file)
    converted = inception_weights_path(str(state_file), cache_dir=tmp_path / "cache")
    assert is_torchscript(converted) and converted != state_file
    extractor = InceptionExtractor(converted)
    images = torch.randint(0, 256, (10, 3, 40, 40), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    feats = extractor.features(images)
    torch.testing.assert_close(feats, inception.features(images), rtol=1e-4, atol=1e-4)
    assert extractor.has_logits
    torch.testing.assert_close(extractor.logits(feats), feats @ state["fc.weight"].T)
    assert inception_score(extractor.logits(feats))[0] >= 1.0


def test_inception_features_grey_equals_repeated_rgb_and_no_logits(inception):
    grey = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    feats = inception.features(grey)
    assert feats.shape == (2, 2048) and feats.dtype == torch.float32 and torch.isfinite(feats).all()
    torch.testing.assert_close(feats, inception.features(grey.repeat(1, 3, 1, 1)))
    if not inception.has_logits:  # fid-helper's default_1.pt: pool features only
        with pytest.raises(MetricUnavailable, match="Inception Score is unavailable"):
            inception.logits(feats)
    with pytest.raises(TypeError):
        inception.features(grey.float())


def test_domain_extractor_learns_labels_trains_once_then_loads_from_cache(fmnist_train, fmnist_test, tmp_path):
    from evogan.metrics.domain import to_model_input

    images, labels = fmnist_train[0][:3000], fmnist_train[1][:3000]
    first = DomainExtractor.fit_or_load(images, labels, "fmnist-test", tmp_path, recipe=SMALL_RECIPE)
    assert first.train_seconds > 0
    assert len(list((tmp_path / "domain").glob("*.pt"))) == 1
    x, y = fmnist_test[0][:1000], fmnist_test[1][:1000]
    with torch.inference_mode():
        accuracy = (first.net(to_model_input(x, 1, 28, torch.device("cpu"))).argmax(1) == y).float().mean()
    assert accuracy > 0.65  # 10 classes, chance 0.1; one epoch over 3000 images

    second = DomainExtractor.fit_or_load(images, labels, "fmnist-test", tmp_path, recipe=SMALL_RECIPE)
    assert second.train_seconds == 0 and second.cache_id == first.cache_id
    torch.testing.assert_close(first.features(x[:64]), second.features(x[:64]))
    assert first.features(x[:64]).shape == (64, 128)


def test_domain_extractor_self_supervised_without_labels(tmp_path):
    from .conftest import drawn_shapes

    images = drawn_shapes(400)
    extractor = build_extractor("domain", real_images=images, dataset_key="shapes", cache_dir=tmp_path,
                                domain_recipe=DomainTraining(max_images=400, epochs=1))
    grey_small = torch.randint(0, 256, (5, 1, 20, 20), dtype=torch.uint8)  # other channels and size: adapted
    assert extractor.features(grey_small).shape == (5, 128)
    assert torch.isfinite(extractor.features(images[:10])).all()


def test_unknown_extractor_and_domain_without_images():
    with pytest.raises(ValueError, match="unknown feature extractor"):
        build_extractor("vgg")
    with pytest.raises(ValueError, match="real_images"):
        build_extractor("domain")
