"""Generator mixtures without Ray: the weight ES, sampling, mixture.pt, and every place that
accepts a generator checkpoint (evogan.fid, --seed-population)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from evogan import validation
from evogan.data import load_data
from evogan.data.shapes import render_shapes
from evogan.evolution.engine import Engine
from evogan.evolution.local_backend import LocalBackend
from evogan.evolution.mixture import (assemble, mixture_fid, optimise_mixture, population_mixture,
                                      proportional_counts, sample_population_mixture)
from evogan.metrics.fid import FeatureStats, fid_from_stats
from evogan.models.sampling import mixture_sample
from tests.conftest import TINY


def pixel_fid_of(real: torch.Tensor):
    """FID on 7x7 average-pooled pixels against ``real`` (a crude but real FID)."""
    def features(images):
        return F.avg_pool2d(images.float() / 255.0, 4).flatten(1).double()

    real_stats = FeatureStats.of(features(real))
    return lambda images: fid_from_stats(real_stats, FeatureStats.of(features(images)))


def tiny_engine(*overrides: str) -> tuple[Engine, LocalBackend]:
    """An initialised engine of the TINY config on in-process shards, scored by pixel FID."""
    config = validation.load(None, TINY + list(overrides))
    data = load_data(config.data, seed=config.seed)
    fid = pixel_fid_of(data.train)
    backend = LocalBackend(config, data.train, data.holdout, lambda batches: {u: fid(x) for u, x in batches.items()})
    engine = Engine(config, backend)
    engine.initialize()
    return engine, backend


def test_proportional_counts_round_and_sum_to_n():
    assert proportional_counts([0.5, 0.5], 7) == [4, 3]
    assert proportional_counts([2, 1, 1], 8) == [4, 2, 2]
    assert proportional_counts([0.0, 1.0], 5) == [0, 5]
    assert sum(proportional_counts([0.31, 0.33, 0.36], 1000)) == 1000
    with pytest.raises(ValueError):
        proportional_counts([0.0, 0.0], 4)
    pools = [torch.zeros(6, 1, 2, 2, dtype=torch.uint8), torch.ones(6, 1, 2, 2, dtype=torch.uint8)]
    assert assemble(pools, [2, 4]).flatten(1)[:, 0].tolist() == [0, 0, 1, 1, 1, 1]


@pytest.fixture(scope="module")
def halves():
    """Two 'generators' that each draw half of the real modes, and one that draws one image."""
    images, labels = render_shapes(4096, 28, 1, seed=7)
    real, _ = render_shapes(2048, 28, 1, seed=8)
    pools = {0: images[labels < 4][:512], 1: images[labels >= 4][:512],
             2: images[:1].expand(512, -1, -1, -1).clone()}
    return pools, pixel_fid_of(real)


def test_es_weights_the_two_halves_and_beats_every_single_generator(halves):
    pools, fid = halves
    result = optimise_mixture([0, 1, 2], pools.__getitem__, fid, iterations=25, sigma=0.2, seed=3)
    w = dict(zip(result.uids, result.weights))
    assert sum(result.weights) == pytest.approx(1.0)
    assert w[0] > 0.3 and w[1] > 0.3 and w[2] < 0.05, w
    assert result.fid < 0.5 * min(result.single_fids.values()), (result.fid, result.single_fids)
    assert result.fid <= result.uniform_fid and result.history == sorted(result.history, reverse=True)
    # the weights were fitted on the pools; fresh samples of the same 'generators' agree
    images, labels = render_shapes(4096, 28, 1, seed=9)
    fresh = {0: images[labels < 4][:512], 1: images[labels >= 4][:512], 2: pools[2]}
    mixed = mixture_sample(result.weights, 512, torch.Generator().manual_seed(0), lambda i, m: fresh[i][:m])
    assert fid(mixed) < 0.5 * min(fid(p) for p in fresh.values())
    again = optimise_mixture([0, 1, 2], pools.__getitem__, fid, iterations=25, sigma=0.2, seed=3)
    assert again.weights == result.weights and again.fid == result.fid  # seeded


def test_offspring_are_scored_in_one_call_and_one_generator_is_its_own_mixture(halves):
    pools, fid = halves
    calls = []

    def fid_many(sets):
        calls.append(len(sets))
        return [fid(s) for s in sets]

    result = optimise_mixture([0, 1, 2], pools.__getitem__, fid_many=fid_many, iterations=4, offspring=3, seed=1)
    assert calls[0] == 4 and all(1 <= c <= 3 for c in calls[1:]) and len(calls) <= 5
    assert result.evaluations == sum(calls)
    alone = optimise_mixture([1], pools.__getitem__, fid, iterations=5)
    assert alone.weights == [1.0] and alone.evaluations == 1 and alone.fid == alone.single_fids[1]


def test_mixture_sample_draws_each_member_with_its_probability():
    draws = []

    def draw(i, m):
        draws.append((i, m))
        return torch.full((m, 1, 2, 2), i, dtype=torch.uint8)

    images = mixture_sample([0.25, 0.0, 0.75], 2000, torch.Generator().manual_seed(0), draw)
    share = (images[:, 0, 0, 0] == 2).float().mean().item()
    assert abs(share - 0.75) < 0.04 and not (images[:, 0, 0, 0] == 1).any()
    assert [i for i, _ in draws] == [0, 2] and [m % 256 for _, m in draws] == [0, 0]  # whole batches
    assert draws[1][1] - 256 < (images[:, 0, 0, 0] == 2).sum() <= draws[1][1]


def test_population_mixture_of_an_engine_on_local_backend():
    engine, backend = tiny_engine("evolution.generations=1")
    engine.run()
    fid = pixel_fid_of(backend.shards[0].images.cpu())
    result = population_mixture(engine, backend, fid, samples=64, iterations=3, seed=5)
    assert sorted(result.uids) == sorted(h.uid for h in engine.handles["g"])
    assert sum(result.weights) == pytest.approx(1.0) and result.fid <= min(result.single_fids.values())
    images = sample_population_mixture(engine, backend, result, 80, seed=2)
    assert images.shape == (80, 1, 28, 28) and images.dtype == torch.uint8
    value = mixture_fid(engine, backend, fid, report_samples=64, samples=64, iterations=3, seed=5)
    assert math.isfinite(value) and value > 0
    assert value == mixture_fid(engine, backend, fid, report_samples=64, samples=64, iterations=3, seed=5)
    # pools embedded once, candidates scored from feature rows: the same search, the same mixture
    embed = lambda images: F.avg_pool2d(images.float() / 255.0, 4).flatten(1).double()  # noqa: E731
    real_stats = FeatureStats.of(embed(backend.shards[0].images.cpu()))
    on_features = mixture_fid(engine, backend, fid, report_samples=64, samples=64, iterations=3, seed=5, embed=embed,
                              feature_fid=lambda rows: fid_from_stats(real_stats, FeatureStats.of(rows)))
    assert on_features == pytest.approx(value, rel=1e-9)


@pytest.fixture
def mixture_checkpoint(tmp_path):
    """A mixture.pt as the driver writes it, from a LocalBackend's generators (weights 0.2 / 0.8)."""
    from evogan.config import to_dict
    from evogan.io.population_checkpoint import MIXTURE, write_mixture
    from evogan.io.storage import Storage

    engine, backend = tiny_engine()
    states = backend.state("g")["g"]
    members = [{k: v for k, v in states[slot].items() if k != "optimizers"} for slot in (0, 1)]
    storage = Storage(tmp_path / "run")
    write_mixture(storage, [0.2, 0.8], members, {"config": to_dict(engine.config), "image_shape": [1, 28, 28],
                                                 "generation": 0, "fid": 1.0, "metric": "fid_domain_64"})
    return tmp_path / "run" / MIXTURE, engine.config, members


def test_mixture_checkpoint_loads_with_weights_only_and_samples(mixture_checkpoint):
    from evogan.io.checkpoint import load_generator, load_sampler

    path, config, members = mixture_checkpoint
    payload = torch.load(path, weights_only=True)
    assert payload["kind"] == "mixture" and payload["weights"] == [0.2, 0.8] and len(payload["members"]) == 2
    assert {"format", "config", "image_shape", "fid", "metric"} <= payload.keys()
    sampler = load_sampler(path)
    assert sampler.kind == "mixture" and sampler.weights == pytest.approx([0.2, 0.8])
    images = sampler.sample(40, torch.Generator().manual_seed(0))
    assert images.shape == (40, 1, 28, 28) and images.dtype == torch.uint8
    assert torch.equal(images, sampler.sample(40, torch.Generator().manual_seed(0)))
    _, modules, _ = load_generator(path)  # a generator checkpoint's callers get the highest-weight member
    for name, tensor in modules.state_dict().items():
        if name in members[1]["modules"]:
            assert torch.equal(tensor, members[1]["modules"][name])


def test_seed_population_and_evogan_fid_accept_a_mixture(mixture_checkpoint, tmp_path, capsys):
    from PIL import Image

    from evogan import fid
    from evogan.driver import load_seed_population

    path, config, members = mixture_checkpoint
    seeded = load_seed_population(path, config)  # what `evogan.run --seed-population` loads
    assert seeded.keys() == members[1]["modules"].keys()
    assert all(torch.equal(seeded[k], members[1]["modules"][k]) for k in seeded)
    real = tmp_path / "real"
    real.mkdir()
    for i, image in enumerate(render_shapes(64, 28, 1, seed=1)[0]):
        Image.fromarray(image[0].numpy()).save(real / f"{i:03d}.png")
    assert fid.main([str(real), str(path), "--extractor", "domain", "--num", "48",
                     "--cache-dir", str(tmp_path / "cache")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("fid_domain_48: ") and float(out[0].split(": ")[1]) > 0


def test_a_broken_mixture_checkpoint_names_the_path(tmp_path):
    from evogan.io.checkpoint import CheckpointError, load_sampler, save_checkpoint

    path = tmp_path / "mixture.pt"
    save_checkpoint({"kind": "mixture", "weights": [0.5], "members": [], "config": {}, "image_shape": [1, 28, 28]},
                    path)
    with pytest.raises(CheckpointError, match=str(path)):
        load_sampler(path)
