"""QualityScorer on real data: FID ordering, protocol names, the statistics cache, the KID/IS report."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from evogan.config import MetricsConfig
from evogan.metrics.scorer import QualityScorer, format_count, metric_name

from .conftest import drawn_shapes


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("metrics-cache")


@pytest.fixture(scope="module")
def scorer(fmnist_train, cache_dir) -> QualityScorer:
    images, labels = fmnist_train[0][:2000], fmnist_train[1][:2000]
    return QualityScorer(MetricsConfig(real_samples=1000, cache_dir=str(cache_dir)), "fmnist-2000", images, labels)


def test_metric_names_encode_the_protocol():
    assert [format_count(n) for n in (2048, 10000, 512, 1500, 1024)] == ["2k", "10k", "512", "1500", "1k"]
    assert metric_name("fid", "domain", 2048) == "fid_domain_2k"
    assert metric_name("fid", "inception", 10000) == "fid_inception_10k"
    assert metric_name("is", "inception", 2048) == "is_inception_2k"


def test_domain_fid_orders_sets_by_how_far_they_are_from_the_data(scorer, fmnist_test):
    x, y = fmnist_test
    held_out = scorer.fid(x[:500], "domain")
    one_class = scorer.fid(x[y == 3][:500], "domain")
    shapes = scorer.fid(drawn_shapes(500, size=28), "domain")
    assert 0 <= held_out < one_class < shapes, (held_out, one_class, shapes)


def test_real_statistics_are_cached_on_disk_and_reused(scorer, fmnist_train, cache_dir, fmnist_test):
    scorer.real_stats("domain")
    files = sorted((cache_dir / "stats").glob("stats-*.npz"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    images, labels = fmnist_train[0][:2000], fmnist_train[1][:2000]
    again = QualityScorer(MetricsConfig(real_samples=1000, cache_dir=str(cache_dir)), "fmnist-2000",
                          images.numpy(), labels.numpy())  # numpy from the object store works too
    stats = again.real_stats("domain")
    assert files[0].stat().st_mtime_ns == stamp  # loaded, not recomputed and rewritten
    assert sorted((cache_dir / "stats").glob("stats-*.npz")) == files
    np.testing.assert_array_equal(stats.mean, scorer.real_stats("domain").mean)
    assert again.fid(fmnist_test[0][:300], "domain") == pytest.approx(scorer.fid(fmnist_test[0][:300], "domain"))


def test_report_has_protocol_names_and_matches_fid(scorer, fmnist_test):
    fake = fmnist_test[0][1000:1512]
    with pytest.warns(UserWarning, match="Inception Score skipped"):
        report = scorer.report(fake, "domain", kid=True, inception_score=True)
    assert set(report) >= {"fid_domain_512", "kid_domain_512", "kid_domain_512_std"}
    assert report["fid_domain_512"] == pytest.approx(scorer.fid(fake, "domain"), rel=1e-9)
    assert abs(report["kid_domain_512"]) < 5 * report["kid_domain_512_std"] + 1e-3  # same distribution


def test_scorer_rejects_float_images(scorer):
    with pytest.raises(TypeError, match="uint8"):
        scorer.fid(torch.zeros(4, 1, 28, 28), "domain")


@pytest.mark.slow
def test_inception_report_end_to_end(inception_path, tmp_path):
    """The Inception path through the scorer (tiny sets: Inception is ~5 images/s on 2 cores)."""
    real, fake = drawn_shapes(16, seed=0), drawn_shapes(16, seed=1)
    scorer = QualityScorer(MetricsConfig(real_samples=16, cache_dir=str(tmp_path)), "shapes-16", real)
    report = scorer.report(fake, "inception", kid=True, inception_score=False)
    assert set(report) == {"fid_inception_16", "kid_inception_16", "kid_inception_16_std"}
    assert report["fid_inception_16"] > 0 and np.isfinite(list(report.values())).all()


def test_fid_from_features_equals_fid(scorer, fmnist_test):
    x = fmnist_test[0][:300]
    features = scorer.features(x, "domain")
    assert scorer.fid_from_features(features, "domain") == pytest.approx(scorer.fid(x, "domain"), rel=1e-6)
    many = scorer.fid_from_features_many({0: features[:150], 1: features}, "domain")
    assert many[1] == pytest.approx(scorer.fid(x, "domain"), rel=1e-6)
    assert many[0] == pytest.approx(scorer.fid(x[:150], "domain"), rel=1e-6)


def test_mode_counts_follow_the_labels_and_need_them(scorer, fmnist_test, cache_dir):
    from evogan.metrics.inception_score import MetricUnavailable
    from evogan.metrics.modes import modes_covered

    x, y = fmnist_test
    real = scorer.mode_counts(x[:1000])  # a small classifier (2,000 images): pullovers and shirts are unsure
    assert len(real) == 11 and sum(real) == 1000 and modes_covered(real) >= 7, real
    trousers = scorer.mode_counts(x[y == 1][:200])
    assert trousers[1] > 5 * max(trousers[:1] + trousers[2:10]), trousers
    unlabelled = QualityScorer(MetricsConfig(real_samples=64, cache_dir=str(cache_dir)), "no-labels", x[:64])
    with pytest.raises(MetricUnavailable, match="labels"):
        unlabelled.mode_counts(x[:8])


def test_is_domain_orders_diverse_over_one_class_sets_and_needs_labels(scorer, fmnist_test, cache_dir):
    """is_domain_<n>: the IS formula on the domain classifier's posteriors over the 10 classes."""
    from evogan.metrics.inception_score import MetricUnavailable

    x, y = fmnist_test
    report = scorer.report(x[:500], "domain", kid=False, inception_score=False, is_domain=True)
    assert set(report) == {"fid_domain_500", "is_domain_500", "is_domain_500_std"}
    diverse = report["is_domain_500"]
    one_class = scorer.domain_inception_score(x[y == 1][:500])[0]  # trousers only
    assert 1.0 <= one_class < 2.0 < diverse <= 10.0, (one_class, diverse)
    assert "is_domain_500" not in scorer.report(x[:500], "domain", kid=False, inception_score=False)  # off by default
    unlabelled = QualityScorer(MetricsConfig(real_samples=64, cache_dir=str(cache_dir)), "no-labels", x[:64])
    with pytest.raises(MetricUnavailable, match="labels"):
        unlabelled.domain_inception_score(x[:16])
