"""A sweep from YAML to results: :func:`prepare_sweep` does every check that can fail on user
input (config, search space, scheduler, data, FID weights) before Ray starts; :func:`run_sweep`
starts/joins Ray through ``ray_session`` (loopback-only locally, token auth on), creates ONE
FID actor, and runs a ``tune.Tuner``.
"""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evogan.config import Config, ConfigError, build_dataclass
from evogan.data import ImageData
from evogan.config import read_yaml
from evogan.models.registry import check_option_files
from evogan.training.loop_config import TrainerConfig, build_sections, validate_trainer, with_overrides
from evogan.tune.config import SMOKE_MAX_SAMPLES, SMOKE_OVERRIDES, SMOKE_STUDY_OVERRIDES, SweepConfig, validate_sweep
from evogan.tune.search_space import (Dimension, check_overlap, check_values, count_trials, expand_arm,
                                      grid_combinations, parse_arms, parse_search_space, study_dimensions)

SWEEP_FILE = "evogan_sweep.json"
"""Written into the experiment directory: the sweep's resolved inputs, metric and mode (for export/resume)."""


@dataclass
class PreparedSweep:
    config: Config
    trainer_cfg: TrainerConfig
    sweep: SweepConfig
    base: dict[str, Any]
    """Raw base config of every trial (standard keys + ``trainer``), smoke profile applied."""
    dimensions: list[Dimension]
    metric: str
    data: ImageData
    experiment_dir: Path
    total_trials: int
    resume: bool = False
    arms: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    """``sweep.arms`` parsed: arm name -> dotted overrides (the ``arm`` dimension's values)."""
    study: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The raw ``study:`` section (claims, plots: read by ``python -m evogan.studies``), checked."""
    command: str = ""
    """The command line that started the sweep (recorded in SWEEP_FILE for the study report)."""
    study_claims: list[Any] = dataclasses.field(default_factory=list)
    """All the config's claims, also those between arms ``sweep.only_arms`` left out: a report
    over several pieces of one study judges the claims between their arms."""


STUDY_SECTION = "study"
"""Optional top-level section of a study YAML (configs/studies/*.yaml): what ``python -m
evogan.studies`` scores and which claims it judges (:mod:`evogan.studies.config`). The sweep
only checks and records it."""


def resolve_sections(raw_file: dict[str, Any], overrides: list[str]) -> tuple[SweepConfig, dict[str, Any]]:
    """(SweepConfig, raw base without ``sweep`` and ``study``); the smoke profile goes under the
    user's overrides and keeps the first of ``sweep.seeds``."""
    def split(raw: dict[str, Any]) -> tuple[SweepConfig, dict[str, Any]]:
        values = raw.pop("sweep", None) or {}
        raw.pop(STUDY_SECTION, None)
        if not isinstance(values, dict):
            raise ConfigError(f"sweep: expected a mapping, got {values!r}")
        return build_dataclass(SweepConfig, values, "sweep"), raw

    sweep, raw = split(with_overrides(raw_file, overrides))
    if sweep.smoke:
        sweep, raw = split(with_overrides(with_overrides(raw_file, dict(SMOKE_OVERRIDES)), overrides))
        sweep = dataclasses.replace(sweep, num_samples=min(sweep.num_samples, SMOKE_MAX_SAMPLES),
                                    seeds=tuple(sweep.seeds[:1]))
    return sweep, raw


def select_arms(sweep: SweepConfig, study: dict[str, Any]) -> tuple[SweepConfig, dict[str, Any]]:
    """``sweep.only_arms`` applied: the kept arms, and the study's claims between kept arms only."""
    if not sweep.only_arms:
        return sweep, study
    for name in sweep.only_arms:
        if name not in sweep.arms:
            raise ConfigError(f"sweep.only_arms: {name!r} is not an arm ({', '.join(sweep.arms) or 'none defined'})")
    from evogan.studies.config import claims_between

    kept = {name: sweep.arms[name] for name in sweep.arms if name in sweep.only_arms}
    claims = claims_between(study.get("claims"), kept)
    return dataclasses.replace(sweep, arms=kept), {**study, "claims": claims} if study else study


def study_section(raw_file: dict[str, Any], overrides: list[str], smoke: bool = False) -> dict[str, Any]:
    """The raw ``study:`` section with overrides applied ({} when absent), checked by
    :func:`evogan.studies.config.build_study`; a smoke sweep's scores at SMOKE_STUDY_OVERRIDES,
    under the user's overrides."""
    from evogan.studies.config import build_study

    if smoke and raw_file.get(STUDY_SECTION):
        raw_file = with_overrides(raw_file, dict(SMOKE_STUDY_OVERRIDES))
    raw = with_overrides(raw_file, overrides).get(STUDY_SECTION) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{STUDY_SECTION}: expected a mapping, got {raw!r}")
    build_study(raw)
    return raw


def sweep_dimensions(sweep: SweepConfig) -> tuple[list[Dimension], dict[str, dict[str, Any]]]:
    """(dimensions: the ``arm`` and ``seed`` grids of a study, then ``sweep.search_space``; parsed arms).

    A study may have no search space of its own; a plain sweep must have one."""
    arms = parse_arms(sweep.arms)
    study_dims = study_dimensions(arms, tuple(sweep.seeds))
    space_dims = parse_search_space(sweep.search_space) if sweep.search_space or not study_dims else []
    sources = {f"sweep.arms.{name}": list(overrides) for name, overrides in arms.items()}
    if sweep.seeds:
        sources["sweep.seeds"] = ["seed"]
    sources.update({f"sweep.search_space.{dim.key}": dim.keys for dim in space_dims})
    check_overlap(sources)
    return study_dims + space_dims, arms


def check_search_space(base: dict[str, Any], dimensions: list[Dimension],
                       arms: dict[str, dict[str, Any]] | None = None) -> None:
    """Every value (range ends, every category, every arm) and every grid combination builds a valid trial."""
    def build(assignments: dict[str, Any]) -> None:
        config, sections = build_sections(with_overrides(base, expand_arm(assignments, arms)),
                                          {"trainer": TrainerConfig})
        validate_trainer(sections["trainer"], config)
        check_option_files(config.model.variant, config.model.options)  # e.g. a variant grid's weight files

    check_values(dimensions, build)
    for combination in grid_combinations(dimensions):
        try:
            build(combination)
        except ConfigError as err:
            raise ConfigError(f"sweep.search_space {combination}: {err}") from None


def experiment_path(sweep: SweepConfig) -> Path:
    """<storage_path>/<name>, numbered -2, -3 ... when a previous sweep used the name."""
    root = Path(sweep.storage_path).expanduser().resolve()
    path = root / sweep.name
    number = 2
    while path.exists():
        path = root / f"{sweep.name}-{number}"
        number += 1
    return path


def prepare_sweep(config_path: Path | None, overrides: list[str], resume_dir: Path | None = None,
                  command: str = "") -> PreparedSweep:
    """Check everything; nothing started. Raises ConfigError / DataError / CheckpointError / InputError."""
    from evogan.data import load_data
    from evogan.io.storage_check import check_storage_uri
    from evogan.preflight import check_config_paths
    from evogan.tune.schedulers import check_scheduler

    raw_file = read_yaml(config_path) if resume_dir is None else read_sweep_file(resume_dir)["inputs"]
    sweep, base = resolve_sections(raw_file, overrides)
    full_study = study_section(raw_file, overrides, smoke=sweep.smoke)
    sweep, study = select_arms(sweep, full_study)
    config, sections = build_sections(base, {"trainer": TrainerConfig})
    trainer_cfg = sections["trainer"]
    validate_trainer(trainer_cfg, config)
    dimensions, arms = sweep_dimensions(sweep)
    if study:
        from evogan.studies.config import build_study, check_against_sweep

        check_against_sweep(build_study(study), [d.key for d in dimensions], arms)
    check_search_space(base, dimensions, arms)
    total = count_trials(dimensions, sweep.num_samples)
    validate_sweep(sweep, trainer_cfg.evaluations, total)
    check_scheduler(sweep, dimensions)
    check_config_paths(config, run_dir=False)
    check_storage_uri(sweep.storage_path if resume_dir is None else str(resume_dir),
                      "sweep.storage_path" if resume_dir is None else "--resume")
    data = load_data(config.data, seed=config.seed)
    from evogan.metrics import metric_name

    metric = metric_name("fid", config.metrics.fitness_extractor, config.fitness.eval_samples)
    path = resume_dir.resolve() if resume_dir is not None else experiment_path(sweep)
    if resume_dir is not None:
        command = read_sweep_file(resume_dir).get("command", "") or command
    command = command or "python -m evogan.sweep " + shlex.join(
        [*(["--config", str(config_path)] if config_path else []), *overrides])
    return PreparedSweep(config, trainer_cfg, sweep, base, dimensions, metric, data, path, total,
                         resume_dir is not None, arms=arms, study=study, command=command,
                         study_claims=list(full_study.get("claims") or []))


def read_sweep_file(experiment_dir: Path) -> dict[str, Any]:
    """The SWEEP_FILE of an experiment directory; CheckpointError naming it when missing or corrupt."""
    from evogan.io.checkpoint import CheckpointError
    from evogan.io.inputs import read_json

    file = Path(experiment_dir) / SWEEP_FILE
    if not file.is_file():
        raise CheckpointError(f"{experiment_dir}: not an evogan sweep directory (no {SWEEP_FILE})")
    info = read_json(file, CheckpointError, f"{file}: unreadable sweep file")
    if not isinstance(info, dict) or not isinstance(info.get("inputs"), dict):
        raise CheckpointError(f"{file}: not an evogan sweep file (no inputs)")
    return info


def write_sweep_file(prepared: PreparedSweep, raw_inputs: dict[str, Any]) -> None:
    from evogan.io.outputs import write_json
    from evogan.studies.machine import describe

    info = {"metric": prepared.metric, "mode": "min", "scheduler": prepared.sweep.scheduler,
            "keys": [d.key for d in prepared.dimensions], "arms": prepared.arms,
            "command": prepared.command, "smoke": prepared.sweep.smoke, "machine": describe(), "inputs": raw_inputs,
            "study_claims": _plain(prepared.study_claims)}
    write_json(prepared.experiment_dir / SWEEP_FILE, info)


def sweep_inputs(prepared: PreparedSweep) -> dict[str, Any]:
    """What ``--resume`` rebuilds the sweep from: the base plus the sweep section (as resolved)."""
    inputs = {**prepared.base, "sweep": {**_plain(dataclasses.asdict(prepared.sweep)), "smoke": False}}
    if prepared.study:
        inputs[STUDY_SECTION] = prepared.study
    return inputs


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _tuner(prepared: PreparedSweep, trainable: Any) -> Any:
    from ray import tune
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback

    from evogan.tune.schedulers import build_scheduler
    from evogan.tune.search_space import param_space
    from evogan.tune.tensorboard import TensorBoardCallback

    sweep = prepared.sweep
    if prepared.resume:
        return tune.Tuner.restore(str(prepared.experiment_dir), trainable, resume_unfinished=True,
                                  resume_errored=True)
    run_config = tune.RunConfig(
        name=prepared.experiment_dir.name, storage_path=str(prepared.experiment_dir.parent),
        checkpoint_config=tune.CheckpointConfig(num_to_keep=sweep.checkpoint_keep,
                                                checkpoint_score_attribute=prepared.metric,
                                                checkpoint_score_order="min"),
        callbacks=[CSVLoggerCallback(), JsonLoggerCallback(),  # + TensorBoard under evogan's tag names
                   TensorBoardCallback(prepared.base, [d.key for d in prepared.dimensions], prepared.metric,
                                       prepared.arms)],
        verbose=sweep.verbose)
    tune_config = tune.TuneConfig(
        metric=prepared.metric, mode="min", num_samples=sweep.num_samples,
        scheduler=build_scheduler(sweep, prepared.dimensions, prepared.trainer_cfg.evaluations),
        max_concurrent_trials=sweep.max_concurrent_trials or None,
        reuse_actors=True)  # a PBT exploit or the next trial reuses a started worker (no new torch import)
    return tune.Tuner(trainable, param_space=param_space(prepared.dimensions), tune_config=tune_config,
                      run_config=run_config)


def run_sweep(prepared: PreparedSweep) -> Any:
    """Start/join Ray, create the shared FID actor, run the Tuner; returns Tune's ResultGrid."""
    from evogan.distributed.cluster import ray_session

    config, data = prepared.config, prepared.data
    if not prepared.resume:
        write_sweep_file(prepared, sweep_inputs(prepared))
    with ray_session(config.ray):
        import ray
        from ray import tune

        from evogan.distributed.fid_actor import create_fid_actor
        from evogan.tune.trainable import gan_trainable

        labels_ref = ray.put(data.train_labels) if data.train_labels is not None else None
        fid_actor = create_fid_actor(config.metrics, data.key, ray.put(data.train), labels_ref,
                                     num_cpus=config.ray.fid_num_cpus, num_gpus=config.ray.fid_num_gpus)
        trainable = tune.with_parameters(
            gan_trainable, base=prepared.base, keys=[d.key for d in prepared.dimensions], metric=prepared.metric,
            arms=prepared.arms,
            train_images=data.train.numpy(), holdout=data.holdout.numpy(), fid_actor=fid_actor)
        trainable = tune.with_resources(trainable, {"cpu": prepared.sweep.cpus_per_trial,
                                                    "gpu": prepared.sweep.gpus_per_trial})
        return _tuner(prepared, trainable).fit()
