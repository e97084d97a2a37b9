"""Image-quality metrics: FID (Heusel et al. 2017), KID (Binkowski et al. 2018), IS (Salimans et al. 2016).

Feature networks (``extractors``), real-statistics cache (``stats_cache``) and the pure
:class:`QualityScorer` that the Ray ``FIDActor`` wraps. CLI: ``python -m evogan.fid A B``.
"""

from evogan.metrics.fid import FeatureStats, frechet_distance, sqrtm_psd
from evogan.metrics.inception_score import MetricUnavailable, inception_score
from evogan.metrics.kid import kernel_inception_distance
from evogan.metrics.scorer import QualityScorer, metric_name

__all__ = ["FeatureStats", "MetricUnavailable", "QualityScorer", "frechet_distance", "inception_score",
           "kernel_inception_distance", "metric_name", "sqrtm_psd"]
