"""The FIDActor in a real local Ray instance returns what the pure scorer returns."""

from __future__ import annotations

import pytest

from evogan.config import MetricsConfig
from evogan.metrics.scorer import QualityScorer


def test_fid_actor_scores_refs_and_tensors_like_the_local_scorer(ray_local, fmnist_train, fmnist_test, tmp_path):
    from evogan.distributed.fid_actor import create_fid_actor

    ray = ray_local
    cfg = MetricsConfig(real_samples=500, cache_dir=str(tmp_path), fitness_extractor="domain")
    images, labels = fmnist_train[0][:1500], fmnist_train[1][:1500]
    actor = create_fid_actor(cfg, "fmnist-actor", ray.put(images), ray.put(labels), num_cpus=0, num_gpus=0)
    fake = fmnist_test[0][:256]
    by_ref = ray.get(actor.fid.remote(ray.put(fake), "domain"))
    by_value = ray.get(actor.fid.remote(fake, "domain"))
    report = ray.get(actor.report.remote(fake, "domain", False, False))
    local = QualityScorer(cfg, "fmnist-actor", images, labels).fid(fake, "domain")  # same cache: same network
    assert by_ref == pytest.approx(local, rel=1e-9) and by_value == pytest.approx(local, rel=1e-9)
    assert report == {"fid_domain_256": pytest.approx(local, rel=1e-9)}
    ray.kill(actor)
