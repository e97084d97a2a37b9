"""The GA-GAN driver: check every input, then run the engine on Ray and write the report.

``prepare`` does all validation that can fail on user input (data, weights, checkpoints)
before Ray starts or a run directory is made; ``run_prepared`` does the work.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from evogan.config import Config, ConfigError, dump_yaml
from evogan.data import ImageData, load_data
from evogan.distributed.cluster import cluster_address, prepare_local_environment, ray_session
from evogan.io.checkpoint import CheckpointError, atomic_write_bytes, load_checkpoint, load_generator, member_of
from evogan.io.metrics_log import read_jsonl
from evogan.io.plots import write_plots
from evogan.io.run_dir import CONFIG_FILE, SUMMARY_FILE, create_run_dir

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    config: Config
    data: ImageData
    run_dir: Path
    saved: dict[str, Any] | None
    seed_modules: dict[str, torch.Tensor] | None


def check_extractor_weights(config: Config) -> None:
    """Fail before any work when an inception metric is asked for and no weights can be found."""
    if "inception" not in (config.metrics.fitness_extractor, config.metrics.report_extractor):
        return
    from evogan.metrics.inception import inception_weights_path

    try:
        inception_weights_path(config.metrics.inception_weights, config.metrics.cache_dir)
    except (FileNotFoundError, RuntimeError, OSError) as err:
        raise ConfigError(f"metrics.inception_weights: {err}") from None


def load_seed_population(path: Path, config: Config) -> dict[str, torch.Tensor]:
    """The weights a generator/population checkpoint holds, checked against this run's model."""
    _, _, seed_config = load_generator(path)
    if seed_config.model != config.model or seed_config.data.resolution != config.data.resolution \
            or seed_config.data.channels != config.data.channels:
        raise CheckpointError(f"{path}: model/resolution/channels differ from this run's config")
    file = path / "checkpoints" / "best.pt" if path.is_dir() else path
    return dict(member_of(load_checkpoint(file), file)["modules"])


def prepare(config: Config, resume_dir: Path | None = None, saved: dict | None = None,
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
        atomic_write_bytes(run_dir / CONFIG_FILE, lambda f: f.write(dump_yaml(config).encode()))
    else:
        run_dir = create_run_dir(config)
    log.info("run directory: %s  (%d training images%s, %d held out)", run_dir, len(data.train),
             f", {data.skipped} corrupt files skipped" if data.skipped else "", len(data.holdout))
    return Prepared(config, data, run_dir, saved, seed_modules)


def _seed_population(backend: Any, modules: dict[str, torch.Tensor]) -> None:
    """Every individual takes the seed checkpoint's weights of its own modules (a G-only
    checkpoint leaves the D's as initialised); optimiser states start fresh."""
    states = backend.state()
    for by_slot in states.values():
        for state in by_slot.values():
            state["modules"] = {k: modules[k].clone() if k in modules else v for k, v in state["modules"].items()}
            state["optimizers"] = {}
    backend.load(states)


def final_report(prepared: Prepared, fid_actor: Any) -> dict[str, float]:
    """Score the best generator of the run with the report extractor and sample count."""
    import ray

    from evogan.models.sampling import sample_images
    from evogan.seeding import derive_seed
    from evogan.training.member import seeded_generator

    best = prepared.run_dir / "checkpoints" / "best.pt"
    if not best.is_file():
        return {}
    variant, modules, _ = load_generator(best)
    metrics = prepared.config.metrics
    images = sample_images(variant, modules, metrics.report_samples,
                           seeded_generator(derive_seed(prepared.config.seed, "report")))
    return ray.get(fid_actor.report.remote(images, metrics.report_extractor, metrics.kid, metrics.inception_score))


def _evolve(prepared: Prepared, fid_actor: Any, data_refs: tuple, saved: dict | None) -> Any:
    """Create the population actors and run the engine to the last generation."""
    from evogan.distributed.population_actor import RayBackend
    from evogan.evolution.engine import Engine
    from evogan.io.reporter import RunReporter

    config = prepared.config
    backend = RayBackend(config, *data_refs, fid_actor)
    reporter = RunReporter(config, prepared.run_dir, prepared.data.image_shape, backend,
                           resume_after=saved["generation"] if saved else -1,
                           best_fid=saved.get("best_fid", math.inf) if saved else math.inf)
    engine = Engine(config, backend, on_generation=reporter)
    try:
        if saved is not None:
            engine.restore(saved)
            log.info("continuing after generation %d", saved["generation"] + 1)
        else:
            engine.initialize()
            if prepared.seed_modules is not None:
                _seed_population(backend, prepared.seed_modules)
        engine.run()
    finally:
        reporter.close()
        backend.shutdown()
    return reporter


def _evolve_with_recovery(prepared: Prepared, fid_actor: Any, data_refs: tuple) -> Any:
    """Run; when a population actor dies, restart from the last checkpoint (``ray.recover_attempts``)."""
    import ray

    saved = prepared.saved
    for attempt in range(prepared.config.ray.recover_attempts + 1):
        try:
            return _evolve(prepared, fid_actor, data_refs, saved)
        except ray.exceptions.RayActorError as err:
            if attempt == prepared.config.ray.recover_attempts:
                raise
            latest = prepared.run_dir / "checkpoints" / "latest.pt"
            saved = load_checkpoint(latest, kind="population") if latest.is_file() else None
            where = f"generation {saved['generation'] + 1}" if saved else "the start"
            log.warning("a population actor died (%s); restarting from %s", type(err).__name__, where)
    raise AssertionError("unreachable")


def run_prepared(prepared: Prepared) -> dict[str, Any]:
    """Start/join Ray, evolve, write plots and the summary; returns the summary."""
    config, data = prepared.config, prepared.data
    with ray_session(config.ray):
        import ray

        from evogan.distributed.fid_actor import create_fid_actor

        labels_ref = ray.put(data.train_labels) if data.train_labels is not None else None
        fid_actor = create_fid_actor(config.metrics, data.key, ray.put(data.train), labels_ref,
                                     num_cpus=config.ray.fid_num_cpus, num_gpus=config.ray.fid_num_gpus)
        data_refs = (ray.put(data.train.numpy()), ray.put(data.holdout.numpy()))
        reporter = _evolve_with_recovery(prepared, fid_actor, data_refs)
        final = final_report(prepared, fid_actor)
    rows = read_jsonl(prepared.run_dir / "metrics.jsonl")
    write_plots(rows, prepared.run_dir / "plots", reporter.quality_key)
    summary = {"run_dir": str(prepared.run_dir), "generations": len(rows),
               "best_fitness_fid": reporter.best_fid, "fitness_metric": reporter.quality_key,
               "first_generation": rows[0]["population"] if rows else {},
               "last_generation": rows[-1]["population"] if rows else {}, "final_metrics": final}
    atomic_write_bytes(prepared.run_dir / SUMMARY_FILE, lambda f: f.write(json.dumps(summary, indent=2).encode()))
    return summary
