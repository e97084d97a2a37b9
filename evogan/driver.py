"""The GA-GAN driver: check every input, then run the engine on Ray and write the report.

``prepare`` does all validation that can fail on user input (data, weights, checkpoints)
before Ray starts or a run directory is made; ``run_prepared`` does the work.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from evogan.config import Config, dump_yaml
from evogan.data import ImageData, load_data
from evogan.distributed.cluster import cluster_address, prepare_local_environment, ray_session
from evogan.io.checkpoint import CheckpointError, atomic_write_bytes, load_checkpoint, load_generator, member_of
from evogan.io.metrics_log import read_jsonl
from evogan.io.outputs import finish_run, write_plots, write_summary
from evogan.io.population_checkpoint import read_latest_manifest, run_storage
from evogan.io.storage import Storage
from evogan.seeding import derive_seed
from evogan.io.run_dir import RunDir
from evogan.preflight import check_extractor_weights

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    config: Config
    data: ImageData
    run_dir: RunDir
    saved: dict[str, Any] | None
    seed_modules: dict[str, torch.Tensor] | None


def load_seed_population(path: Path, config: Config) -> dict[str, torch.Tensor]:
    """The weights a generator/population/mixture checkpoint holds (a population's best
    generator, a mixture's highest-weight member), checked against this run's model."""
    _, _, seed_config = load_generator(path)
    if seed_config.model != config.model or seed_config.data.resolution != config.data.resolution \
            or seed_config.data.channels != config.data.channels:
        raise CheckpointError(f"{path}: model/resolution/channels differ from this run's config")
    file = RunDir(path).best_checkpoint if path.is_dir() else path
    return dict(member_of(load_checkpoint(file), file)["modules"])


def prepare(config: Config, resume_dir: RunDir | None = None, saved: dict | None = None,
            seed_population: Path | None = None) -> Prepared:
    """Validate inputs and create (or reopen) the run directory; raises on bad input."""
    if not cluster_address(config.ray):
        prepare_local_environment()
    data = load_data(config.data, seed=config.seed)
    check_extractor_weights(config)
    seed_modules = load_seed_population(seed_population, config) if seed_population else None
    if saved is not None and list(saved["image_shape"]) != list(data.image_shape):
        raise CheckpointError(f"{resume_dir}: checkpoint images {saved['image_shape']} != data {data.image_shape}")
    if resume_dir is not None:
        run_dir = resume_dir
        atomic_write_bytes(run_dir.config, lambda f: f.write(dump_yaml(config).encode()))
    else:
        run_dir = RunDir.create(config)
    log.info("run directory: %s  (%d training images%s, %d held out)", run_dir, len(data.train),
             f", {data.skipped} corrupt files skipped" if data.skipped else "", len(data.holdout))
    return Prepared(config, data, run_dir, saved, seed_modules)


def _evolve(prepared: Prepared, fid_pool: Any, data_refs: tuple, storage: Storage, saved: dict | None) -> Any:
    """Create the population actors and run the engine to the last generation."""
    from evogan.distributed.placement import Placement
    from evogan.distributed.population_actor import RayBackend
    from evogan.evolution.engine import Engine
    from evogan.evolution.recovery import Recovery
    from evogan.io.reporter import RunReporter

    config = prepared.config
    backend = RayBackend(config, *data_refs, fid_pool, Placement.create(config))
    reporter = RunReporter(config, prepared.run_dir, prepared.data.image_shape, backend, storage,
                           resume_after=saved["generation"] if saved else -1,
                           best_fid=_best_fid(saved), best_uid=saved.get("best_uid") if saved else None)
    recovery = Recovery(storage, lambda: read_latest_manifest(storage), config.ray.recover_attempts)
    engine = Engine(config, backend, on_generation=reporter, recovery=recovery)
    try:
        if saved is not None:
            backend.load_shards(storage, {e["shard"]: e for e in saved["shards"]}, set(range(backend.num_shards)))
            engine.restore(saved)
            log.info("continuing after generation %d", saved["generation"] + 1)
        else:
            engine.initialize()
            if prepared.seed_modules is not None:
                backend.seed_weights(prepared.seed_modules)
        engine.run()
        metrics = config.metrics
        final = backend.report_best(storage, metrics.report_samples, derive_seed(config.seed, "report"),
                                    metrics.report_extractor, metrics.kid, metrics.inception_score)
        # Generator mixture and mode coverage (evogan.distributed.mixture_report): after the run only.
        from evogan.distributed.mixture_report import finish_mixture
        final.update(finish_mixture(config, engine, backend, fid_pool, storage, prepared.run_dir,
                                    prepared.data.image_shape, prepared.data.holdout))
    finally:
        reporter.close()
        backend.shutdown()
    return reporter, final


def _best_fid(saved: dict | None) -> float:
    value = saved.get("best_fid") if saved else None
    return math.inf if value is None else float(value)


def _evolve_with_recovery(prepared: Prepared, fid_pool: Any, data_refs: tuple, storage: Storage) -> Any:
    """Run. Dead population actors are recovered one by one inside the engine; when that is
    impossible, restart the whole run from its last checkpoint. Both draw on ``ray.recover_attempts``."""
    import ray

    from evogan.evolution.recovery import ShardsFailed

    saved = prepared.saved
    for attempt in range(prepared.config.ray.recover_attempts + 1):
        try:
            return _evolve(prepared, fid_pool, data_refs, storage, saved)
        except (ray.exceptions.RayActorError, ShardsFailed) as err:
            if attempt == prepared.config.ray.recover_attempts:
                raise
            saved = read_latest_manifest(storage)
            where = f"generation {saved['generation'] + 2}" if saved else "the start"
            log.warning("%s; restarting the whole run from %s", err, where)
    raise AssertionError("unreachable")


def run_prepared(prepared: Prepared) -> dict[str, Any]:
    """Start/join Ray, evolve, write plots and the summary; returns the summary."""
    config, data = prepared.config, prepared.data
    storage = run_storage(config.output, prepared.run_dir.root)
    with ray_session(config.ray):
        import ray

        from evogan.distributed.fid_actor import create_fid_pool

        labels_ref = ray.put(data.train_labels) if data.train_labels is not None else None
        fid_pool = create_fid_pool(config.metrics, data.key, ray.put(data.train), labels_ref,
                                   num_cpus=config.ray.fid_num_cpus, num_gpus=config.ray.fid_num_gpus)
        data_refs = (ray.put(data.train.numpy()), ray.put(data.holdout.numpy()))
        reporter, final = _evolve_with_recovery(prepared, fid_pool, data_refs, storage)
    rows = read_jsonl(prepared.run_dir.metrics)
    write_plots(prepared.run_dir, rows, reporter.quality_key)
    details = final.pop("details", {})  # mixture weights and search, mode histograms: sections, not metrics
    summary = write_summary(prepared.run_dir.summary, {
        "run_dir": str(prepared.run_dir), "storage": storage.uri, "generations": len(rows),
        "best_fitness_fid": reporter.best_fid, "fitness_metric": reporter.quality_key,
        "first_generation": rows[0]["population"] if rows else {},
        "last_generation": rows[-1]["population"] if rows else {}, "final_metrics": final, **details})
    finish_run(config, prepared.run_dir, summary)  # TensorBoard HParams and report/index.html
    reporter.mirror()
    return summary
