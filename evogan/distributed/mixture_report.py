"""End of a run on Ray: the final generators' mixture and the mode-coverage figure.

Called by the driver after the last generation, while the population actors still hold the
final population. The weight search itself is :mod:`evogan.evolution.mixture` (no Ray): here
the generators' pools are drawn by the actors that own them (``backend.samples``) and embedded
once by the shared FID service with the fitness extractor, which then scores every candidate
mixture from its members' feature rows (``fid_from_features_many``); the chosen mixture is
scored beside ``best.pt`` under the report protocol (``metrics.report_extractor``,
``metrics.report_samples``, the report seed) and saved as ``checkpoints/mixture.pt``. The
members' weights reach the driver only here, after the run, to assemble that file.

On ``shapes`` (labelled modes) the same report images of ``best.pt`` and of the mixture, and the
held-out real images, are sorted into modes by the domain classifier
(:mod:`evogan.metrics.modes`): ``modes_best``, ``modes_mixture``, ``modes_real`` and
``plots/mode_coverage.png``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import ray
import torch

from evogan.config import Config, to_dict
from evogan.io.population_checkpoint import BEST, MIXTURE, read_generator, write_mixture
from evogan.io.run_dir import RunDir
from evogan.io.storage import Storage
from evogan.seeding import derive_seed

log = logging.getLogger(__name__)


def finish_mixture(config: Config, engine: Any, backend: Any, fid_pool: Any, storage: Storage, run_dir: RunDir,
                   image_shape: tuple[int, ...], holdout: torch.Tensor) -> dict[str, Any]:
    """Flat final metrics (``mixture_<report metric>``, ``modes_*``) plus ``details``: sections
    for summary.json, ``mixture`` (weights by uid, the search) and ``mode_coverage`` (histograms)."""
    from evogan.evolution.mixture import population_mixture, sample_population_mixture
    from evogan.metrics import metric_name

    metrics, mix = config.metrics, config.mixture
    out: dict[str, Any] = {}
    details: dict[str, dict[str, Any]] = {}
    report_seed = derive_seed(config.seed, "report")
    mixture_images = None
    if mix.enabled and engine.handles["g"]:
        started = time.perf_counter()
        extractor, scorer = metrics.fitness_extractor, fid_pool.primary

        def embed(images: torch.Tensor) -> torch.Tensor:  # each pool once, by the FID service
            return ray.get(scorer.features.remote(images, extractor))

        def fid_many(feature_sets: list[torch.Tensor]) -> list[float]:  # candidates: one call per ES generation
            scores = ray.get(scorer.fid_from_features_many.remote(dict(enumerate(feature_sets)), extractor))
            return [scores[i] for i in range(len(feature_sets))]

        result = population_mixture(engine, backend, fid_many=fid_many, embed=embed, samples=mix.samples,
                                    iterations=mix.iterations, offspring=mix.offspring, sigma=mix.sigma,
                                    seed=derive_seed(config.seed, "mixture"))
        mixture_images = sample_population_mixture(engine, backend, result, metrics.report_samples, report_seed)
        report = ray.get(scorer.report.remote(mixture_images, metrics.report_extractor, metrics.kid,
                                              metrics.inception_score))
        out.update({f"mixture_{name}": value for name, value in report.items()})
        search_metric = metric_name("fid", extractor, result.samples)
        _save(config, engine, backend, storage, image_shape, result, search_metric)
        details["mixture"] = {"weights": {str(u): w for u, w in zip(result.uids, result.weights)},
                              "search_metric": search_metric,
                              **{k: v for k, v in result.to_dict().items() if k != "weights"},
                              "checkpoint": storage.path(MIXTURE), "seconds": time.perf_counter() - started}
        log.info("mixture of %d generators: %s %.2f (best single %.2f, uniform %.2f) in %.1fs; %s",
                 sum(w > 0 for w in result.weights), search_metric, result.fid, result.best_single_fid,
                 result.uniform_fid, details["mixture"]["seconds"], report)
    if config.data.name == "shapes":
        started = time.perf_counter()
        details["mode_coverage"] = _modes(config, fid_pool, storage, run_dir, holdout, report_seed, mixture_images)
        details["mode_coverage"]["seconds"] = time.perf_counter() - started
        out.update({f"modes_{source}": n for source, n in details["mode_coverage"]["covered"].items()})
    if details:
        out["details"] = details
    return out


def _save(config: Config, engine: Any, backend: Any, storage: Storage, image_shape: tuple[int, ...], result: Any,
          metric: str) -> None:
    """``checkpoints/mixture.pt`` from the members with weight > 0 (their states fetched once)."""
    slot_of = {h.uid: h.slot for h in engine.handles["g"]}
    kept = [(uid, w) for uid, w in zip(result.uids, result.weights) if w > 0]
    states = backend.state("g", [slot_of[uid] for uid, _ in kept])["g"]
    by_uid = {int(s["uid"]): s for s in states.values()}
    members = [{k: v for k, v in by_uid[uid].items() if k != "optimizers"} for uid, _ in kept]
    write_mixture(storage, [w for _, w in kept], members,
                  {"config": to_dict(config), "image_shape": list(image_shape), "generation": engine.generation,
                   "fid": result.fid, "metric": metric, "search": result.to_dict()})


def _modes(config: Config, fid_pool: Any, storage: Storage, run_dir: RunDir, holdout: torch.Tensor, report_seed: int,
           mixture_images: torch.Tensor | None) -> dict[str, Any]:
    """Mode histograms of the held-out real images, best.pt's report images and the mixture's."""
    from evogan.data.shapes import MODE_NAMES
    from evogan.io.plots import plot_mode_coverage
    from evogan.metrics.modes import MIN_CONFIDENCE, MIN_SHARE, modes_covered

    sources = {"real": holdout}
    if storage.exists(BEST):
        sources["best"] = _best_images(storage, config.metrics.report_samples, report_seed)
    if mixture_images is not None:
        sources["mixture"] = mixture_images
    counts = dict(zip(sources, ray.get([fid_pool.primary.mode_counts.remote(images) for images in sources.values()])))
    plot_mode_coverage(run_dir, {"real (held out)" if k == "real" else "best G" if k == "best" else k: v
                                 for k, v in counts.items()}, MODE_NAMES, MIN_SHARE)
    return {"names": list(MODE_NAMES) + ["unsure"], "counts": counts, "min_share": MIN_SHARE,
            "min_confidence": MIN_CONFIDENCE, "covered": {k: modes_covered(v) for k, v in counts.items()}}


def _best_images(storage: Storage, n: int, seed: int) -> torch.Tensor:
    """``best.pt``'s report images (the latents ``report_best`` scores), sampled on the driver."""
    from evogan.models import build_variant
    from evogan.models.sampling import sample_images
    from evogan.training.member import seeded_generator
    from evogan.validation import from_dict

    payload = read_generator(storage)
    saved = from_dict(payload["config"])
    variant = build_variant(saved.model, tuple(payload["image_shape"]))
    modules = variant.build()
    modules.load_state_dict(payload["member"]["modules"], strict=False)
    return sample_images(variant, modules, n, seeded_generator(seed))
