"""QualityScorer: FID / KID / IS of generated images against one dataset's cached real statistics.

Pure (no Ray): :mod:`evogan.distributed.fid_actor` wraps it so one process loads the feature
networks once and serves every population actor. Metric names encode the protocol, as
stylegan2-ada's registry does (``fid50k_full``): ``fid_domain_2k`` is the FID under the domain
extractor with 2048 generated images (against ``metrics.real_samples`` real ones).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from evogan.config import MetricsConfig
from evogan.metrics import stats_cache
from evogan.metrics.domain import fingerprint
from evogan.metrics.extractors import FeatureExtractor, build_extractor
from evogan.metrics.fid import FeatureStats, frechet_distance, sqrtm_psd
from evogan.metrics.inception_score import MetricUnavailable, inception_score, posterior_score
from evogan.metrics.kid import kernel_inception_distance

STREAM_CHUNK = 1024
"""Images per extractor call when only statistics are needed (bounds feature memory)."""


def format_count(n: int) -> str:
    """2048 -> '2k', 10000 -> '10k', 512 -> '512', 1500 -> '1500'."""
    if n >= 1000 and n % 1024 == 0:
        return f"{n // 1024}k"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def metric_name(kind: str, extractor: str, n: int) -> str:
    """Protocol-encoding metric name, e.g. ``metric_name("fid", "domain", 2048) == "fid_domain_2k"``."""
    return f"{kind}_{extractor}_{format_count(n)}"


def real_subset(n_total: int, cap: int, seed: int = 0) -> torch.Tensor:
    """Deterministic, sorted indices of at most ``cap`` real images."""
    if n_total <= cap:
        return torch.arange(n_total)
    gen = torch.Generator().manual_seed(seed)
    return torch.randperm(n_total, generator=gen)[:cap].sort().values


def as_images(images: torch.Tensor | np.ndarray, what: str = "images") -> torch.Tensor:
    """Check for uint8 (n, 1|3, h, w); numpy arrays (e.g. from the object store) are wrapped, not copied."""
    if isinstance(images, np.ndarray):
        with warnings.catch_warnings():  # read-only object-store arrays: only ever read here
            warnings.simplefilter("ignore", UserWarning)
            images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 4:
        raise TypeError(f"{what}: expected a uint8 tensor (n, c, h, w), got "
                        f"{getattr(images, 'dtype', type(images).__name__)} {tuple(getattr(images, 'shape', ()))}")
    if images.shape[1] not in (1, 3) or images.shape[0] < 2:
        raise ValueError(f"{what}: need >= 2 images with 1 or 3 channels, got shape {tuple(images.shape)}")
    return images


@dataclass
class RealStats:
    mean: np.ndarray
    cov: np.ndarray
    count: int
    sqrt_cov: np.ndarray | None = None  # computed on first FID, reused by every later one


class QualityScorer:
    """Scores uint8 image batches against one dataset; extractors and real statistics built lazily."""

    def __init__(self, metrics_cfg: MetricsConfig, dataset_key: str, real_images: torch.Tensor,
                 real_labels: torch.Tensor | None = None, device: str | torch.device = "cpu", batch_size: int = 64):
        real_images = as_images(real_images, "real_images")
        if isinstance(real_labels, np.ndarray):
            real_labels = torch.from_numpy(np.array(real_labels, dtype=np.int64))
        self.cfg = metrics_cfg
        self.dataset_key = dataset_key
        self.real_images = real_images
        self.real_labels = real_labels
        self.device = torch.device(device)
        self.batch_size = batch_size
        self._extractors: dict[str, FeatureExtractor] = {}
        self._real_stats: dict[str, RealStats] = {}
        self._real_features: dict[str, np.ndarray] = {}
        self._subset = real_subset(real_images.shape[0], metrics_cfg.real_samples)
        self._real_key = {"dataset": dataset_key, "shape": list(real_images.shape[1:]),
                          "n": int(self._subset.numel()), "data": fingerprint(real_images[self._subset])}

    # ---------------------------------------------------------------- building blocks
    def extractor(self, name: str) -> FeatureExtractor:
        """The named extractor, built (or trained / loaded from cache) on first use."""
        if name not in self._extractors:
            self._extractors[name] = build_extractor(
                name, device=self.device, cache_dir=self.cfg.cache_dir, inception_weights=self.cfg.inception_weights,
                real_images=self.real_images, real_labels=self.real_labels, dataset_key=self.dataset_key,
                batch_size=self.batch_size)
        return self._extractors[name]

    def warm_up(self, *extractors: str) -> None:
        """Build the extractors and their real statistics now rather than on the first score."""
        for name in extractors:
            self.real_stats(name)

    def features(self, images: torch.Tensor, extractor: str) -> torch.Tensor:
        """(n, dim) float32 features of uint8 ``images``."""
        return self.extractor(extractor).features(as_images(images))

    def _stream_stats(self, images: torch.Tensor, extractor: str) -> FeatureStats:
        net = self.extractor(extractor)
        stats = FeatureStats(net.dim)
        for start in range(0, images.shape[0], STREAM_CHUNK):
            stats.update(net.features(images[start:start + STREAM_CHUNK]))
        return stats

    def real_stats(self, extractor: str) -> RealStats:
        """Mean / covariance of the real subset's features, from the disk cache when present."""
        if extractor not in self._real_stats:
            net = self.extractor(extractor)
            path = stats_cache.cache_path(self.cfg.cache_dir, "stats",
                                          stats_cache.cache_key(extractor=net.cache_id, **self._real_key))

            def compute() -> dict[str, np.ndarray]:
                stats = self._stream_stats(self.real_images[self._subset], extractor)
                return {"mean": stats.mean, "cov": stats.cov, "count": np.array(stats.count)}

            arrays = stats_cache.load_or_compute(path, compute)
            self._real_stats[extractor] = RealStats(arrays["mean"], arrays["cov"], int(arrays["count"]))
        return self._real_stats[extractor]

    def real_features(self, extractor: str) -> np.ndarray:
        """Features of the real subset (for KID), from the disk cache when present."""
        if extractor not in self._real_features:
            net = self.extractor(extractor)
            path = stats_cache.cache_path(self.cfg.cache_dir, "features",
                                          stats_cache.cache_key(extractor=net.cache_id, **self._real_key))
            arrays = stats_cache.load_or_compute(
                path, lambda: {"features": net.features(self.real_images[self._subset]).numpy()})
            self._real_features[extractor] = arrays["features"]
        return self._real_features[extractor]

    def _fid_from_stats(self, stats: FeatureStats, extractor: str) -> float:
        real = self.real_stats(extractor)
        if real.sqrt_cov is None:
            real.sqrt_cov = sqrtm_psd(real.cov)
        return frechet_distance(real.mean, real.cov, stats.mean, stats.cov, sqrt_sigma1=real.sqrt_cov)

    # ---------------------------------------------------------------- metrics
    def fid(self, images: torch.Tensor, extractor: str | None = None) -> float:
        """FID (Heusel et al. 2017) of uint8 ``images`` against the real statistics; per-generation fitness."""
        extractor = extractor or self.cfg.fitness_extractor
        images = as_images(images)
        return self._fid_from_stats(self._stream_stats(images, extractor), extractor)

    def fid_many(self, batches: dict[int, torch.Tensor], extractor: str | None = None) -> dict[int, float]:
        """FID of several image sets in one call (one per population shard and generation)."""
        return {key: self.fid(images, extractor) for key, images in batches.items()}

    def fid_from_features(self, features: torch.Tensor | np.ndarray, extractor: str | None = None) -> float:
        """FID of precomputed ``extractor`` features (n, dim), e.g. rows of :meth:`features` output:
        a generator mixture's candidates reuse their members' features instead of a feature pass."""
        return self._fid_from_stats(FeatureStats.of(features), extractor or self.cfg.fitness_extractor)

    def fid_from_features_many(self, batches: dict[int, torch.Tensor | np.ndarray],
                               extractor: str | None = None) -> dict[int, float]:
        """:meth:`fid_from_features` of several feature sets in one call."""
        return {key: self.fid_from_features(features, extractor) for key, features in batches.items()}

    def report(self, images: torch.Tensor, extractor: str | None = None, kid: bool | None = None,
               inception_score: bool | None = None, is_domain: bool | None = None) -> dict[str, float]:
        """Final-summary metrics named by protocol, e.g. {"fid_domain_2k": ..., "kid_domain_2k": ...}.

        Defaults come from the metrics config. IS always uses the Inception network (it is defined
        on its class posteriors); when the weights carry no logits it is left out with a warning.
        ``is_domain`` adds ``is_domain_<n>`` (and ``_std``): :meth:`domain_inception_score`; left
        out with a warning on a dataset without labels.
        """
        extractor = extractor or self.cfg.report_extractor
        kid = self.cfg.kid if kid is None else kid
        inception_score = self.cfg.inception_score if inception_score is None else inception_score
        is_domain = self.cfg.is_domain if is_domain is None else is_domain
        images = as_images(images)
        feats = self.features(images, extractor)
        n = images.shape[0]
        out = {metric_name("fid", extractor, n): self._fid_from_stats(FeatureStats.of(feats), extractor)}
        if kid:
            mean, std = kernel_inception_distance(self.real_features(extractor), feats.numpy())
            out[metric_name("kid", extractor, n)], out[metric_name("kid", extractor, n) + "_std"] = mean, std
        if inception_score:
            try:
                mean, std = self.inception_score(images, feats if extractor == "inception" else None)
                out[metric_name("is", "inception", n)], out[metric_name("is", "inception", n) + "_std"] = mean, std
            except MetricUnavailable as err:
                warnings.warn(f"Inception Score skipped: {err}", stacklevel=2)
        if is_domain:
            try:
                mean, std = self.domain_inception_score(images)
                out[metric_name("is", "domain", n)], out[metric_name("is", "domain", n) + "_std"] = mean, std
            except MetricUnavailable as err:
                warnings.warn(f"is_domain skipped: {err}", stacklevel=2)
        return out

    def domain_inception_score(self, images: torch.Tensor, splits: int = 10) -> tuple[float, float]:
        """(mean, std) of the IS formula exp(E KL(p(y|x) || p(y))) on the domain network's
        posteriors over the dataset's classes (:func:`~evogan.metrics.inception_score.posterior_score`),
        for seeds that report IS: the FID Inception shipped here has no classifier layer.
        Raises MetricUnavailable without labels (the network then predicts rotations)."""
        if self.real_labels is None:
            raise MetricUnavailable("is_domain needs a dataset with labels (without them the domain "
                                    "network is trained on rotations, not classes)")
        images = as_images(images)
        return posterior_score(self.extractor("domain").class_probabilities(images),
                               splits=min(splits, images.shape[0]))

    def mode_counts(self, images: torch.Tensor) -> list[int]:
        """Mode histogram of uint8 ``images`` (:func:`evogan.metrics.modes.mode_counts`: per
        class, then "unsure") under the domain network trained on the dataset's labels;
        raises MetricUnavailable on a dataset without labels."""
        from evogan.metrics.modes import mode_counts

        if self.real_labels is None:
            raise MetricUnavailable("mode coverage needs a dataset with labels (e.g. shapes)")
        return mode_counts(self.extractor("domain").class_probabilities(as_images(images)))

    def inception_score(self, images: torch.Tensor,
                        inception_features: torch.Tensor | None = None) -> tuple[float, float]:
        """(mean, std) IS (Salimans et al. 2016); raises MetricUnavailable without Inception logits."""
        net = self.extractor("inception")
        if not net.has_logits:
            net.logits(torch.zeros(1, net.dim))  # raises MetricUnavailable with the reason
        feats = self.features(images, "inception") if inception_features is None else inception_features
        return inception_score(net.logits(feats))
