"""Read a finished study (a Tune experiment written by ``python -m evogan.sweep``), score every
trial's final generator, and aggregate over seeds.

Per trial: the records it reported (``progress.csv``: Tune rewrites ``result.json`` when PBT
restores a trial), its last checkpoint (the final generator: ``checkpoint_keep`` always keeps the
latest), the steps it trained and their seconds (``train_seconds``: the gradient steps alone), the
stability figures (:mod:`evogan.studies.stability`), and, from the analysis itself,
``fid_domain_<n>`` and ``is_domain_<n>`` of ``study.samples`` images of the final generator
(the same latents for every trial) against the reference data, and for each row's first seed
``fid_inception_<m>`` when asked.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from evogan.config import Config, ConfigError
from evogan.io.checkpoint import CheckpointError, load_checkpoint
from evogan.studies.config import HIGHER_IS_BETTER, StudyConfig, build_study
from evogan.studies.pieces import merge_pieces
from evogan.studies.recorded import RecordedTrial, read_recorded
from evogan.studies.stability import mean_std, stability, verdict

SAMPLE_SEED = 20_240_601
"""Seed of the latents every final generator is sampled with (the same for every trial)."""
TRIAL_FILE = "trial.pt"


@dataclass
class Trial:
    path: Path
    config: dict[str, Any]
    """Tune's trial config (params.json): the sampled values, nested."""
    assignments: dict[str, Any]
    """Swept key -> value (``arm``, ``seed``, ...)."""
    rows: list[dict[str, Any]]
    checkpoint: Path | None
    seed: int
    group: str = ""
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return int(self.rows[-1].get("step", 0)) if self.rows else 0

    def seconds_per_step(self) -> float:
        """Training seconds per gradient step (train_seconds; older records: seconds, FID included)."""
        key = "train_seconds" if self.rows and "train_seconds" in self.rows[0] else "seconds"
        seconds = sum(float(row.get(key, 0.0) or 0.0) for row in self.rows)
        return seconds / self.steps if self.steps else math.nan


@dataclass
class Study:
    directory: Path
    info: dict[str, Any]
    """The sweep's SWEEP_FILE: metric, keys, arms, command, machine, inputs."""
    base: dict[str, Any]
    """The trials' raw base config (with ``trainer``), as the sweep resolved it."""
    config: Config
    steps: int
    """trainer.steps: the budget every trial was given."""
    study: StudyConfig
    trials: list[Trial]
    recorded: list[RecordedTrial] = field(default_factory=list)
    """More seeds read back from earlier reports (:mod:`evogan.studies.recorded`)."""

    @property
    def metric(self) -> str:
        return self.info["metric"]

    @property
    def keys(self) -> list[str]:
        return list(self.info.get("keys", []))

    def group_keys(self) -> list[str]:
        if self.study.group_by:
            return list(self.study.group_by)
        return [key for key in self.keys if key != "seed"]

    def groups(self) -> dict[str, list[Trial]]:
        """Row label -> trials, rows in the order of the arms (or of the first trial of each)."""
        out: dict[str, list[Trial]] = {}
        arms = list(self.info.get("arms") or {})
        order = sorted(self.trials, key=lambda t: (arms.index(t.assignments["arm"]) if "arm" in t.assignments
                                                   and t.assignments["arm"] in arms else -1, _sort_key(t), t.seed))
        for trial in order:
            out.setdefault(trial.group, []).append(trial)
        return out


def _sort_key(trial: Trial) -> tuple:
    return tuple((str(type(v)), v) if not isinstance(v, (int, float)) else ("0", v)
                 for k, v in trial.assignments.items() if k != "seed")


def _number(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    try:
        return float(text) if text != "" else math.nan
    except ValueError:
        return text


def read_progress(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        rows = [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(handle)]
    return sorted(rows, key=lambda row: row.get("step", 0))


def last_checkpoint(trial_dir: Path) -> Path | None:
    found = sorted(trial_dir.glob(f"checkpoint_*/{TRIAL_FILE}"), key=lambda p: p.parent.name)
    return found[-1] if found else None


def lookup(assignments: dict[str, Any], key: str) -> Any:
    """The value of a swept key; tied keys (``train.lr_g,train.lr_d``) by their first key."""
    return assignments.get(key, assignments.get(key.split(",")[0]))


def label(assignments: dict[str, Any], keys: list[str]) -> str:
    """Row label: the arm's name, else ``short_key=value`` pairs (3 significant digits for floats)."""
    parts = []
    for key in keys:
        value = lookup(assignments, key)
        if key == "arm":
            parts.append(str(value))
            continue
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        parts.append(f"{key.split(',')[0].split('.')[-1]}={shown}")
    return ", ".join(parts) or "all"


def read_study(*directories: Path) -> Study:
    """Everything a report needs from a finished (or stopped) experiment directory, or from
    several: the pieces of one study run with ``sweep.only_arms`` (:mod:`evogan.studies.pieces`)."""
    from evogan.training.loop_config import TrainerConfig, build_sections
    from evogan.tune.runner import STUDY_SECTION, read_sweep_file
    from evogan.tune.search_space import trial_assignments

    directories = [Path(d).expanduser().resolve() for d in directories]
    for directory in directories:
        if not directory.is_dir():
            raise CheckpointError(f"{directory}: results directory not found")
    if len(set(directories)) < len(directories):
        raise ConfigError("the same results directory is given twice")
    infos = [read_sweep_file(d) for d in directories]
    info = infos[0] if len(infos) == 1 else merge_pieces(directories, infos)
    directory = directories[0]
    inputs = dict(info["inputs"])
    inputs.pop("sweep", None)
    study = build_study(inputs.pop(STUDY_SECTION, None))
    config, sections = build_sections(inputs, {"trainer": TrainerConfig})
    keys = list(info.get("keys", []))
    trials = []
    for params in sorted(p for d in directories for p in d.glob("*/params.json")):
        trial_config = json.loads(params.read_text())
        try:
            assignments = trial_assignments(trial_config, keys)
        except (KeyError, TypeError):
            continue  # not one of this sweep's trials
        seed = int(assignments.get("seed", config.seed))
        trials.append(Trial(params.parent, trial_config, assignments, read_progress(params.parent / "progress.csv"),
                            last_checkpoint(params.parent), seed))
    if not trials:
        raise CheckpointError(f"{' + '.join(map(str, directories))}: no trials (no */params.json)")
    result = Study(directory, info, inputs, config, sections["trainer"].steps, study, trials)
    group_keys = result.group_keys()
    for trial in trials:
        trial.group = label(trial.assignments, group_keys)
    return result


# ----------------------------------------------------------------------------- scoring


def final_generator(checkpoint: Path):
    """(variant, modules, step) of a trial checkpoint's generator (weights as trained, on the CPU)."""
    from evogan.models import build_variant
    from evogan.training.member import Member
    from evogan.validation import from_dict

    payload = load_checkpoint(checkpoint, kind="tune_trial")
    config = from_dict(payload["config"])
    variant = build_variant(config.model, tuple(payload["image_shape"]))
    member = Member.from_checkpoint(payload["state"]["member"], variant)
    return variant, member.modules, int(payload["state"]["step"])


def sample_final(checkpoint: Path, n: int) -> torch.Tensor:
    """``n`` uint8 images of the final generator, latents from SAMPLE_SEED."""
    from evogan.models.sampling import sample_images
    from evogan.training.member import seeded_generator

    variant, modules, _ = final_generator(checkpoint)
    return sample_images(variant, modules, n, seeded_generator(SAMPLE_SEED))


def reference_scorers(study: Study, cache_dir: str | None = None, inception: int = 0):
    """(domain scorer, inception scorer or None) over the study's reference images."""
    from evogan.data import load_data
    from evogan.metrics.scorer import QualityScorer

    config = study.config
    data_cfg = dataclasses.replace(config.data, limit=0) if study.study.reference == "full" else config.data
    data = load_data(data_cfg, seed=config.seed)
    metrics = dataclasses.replace(config.metrics, cache_dir=cache_dir or config.metrics.cache_dir)
    domain = QualityScorer(dataclasses.replace(metrics, real_samples=study.study.real_samples),
                           data.key, data.train, data.train_labels)
    incep = QualityScorer(dataclasses.replace(metrics, real_samples=inception), data.key, data.train,
                          data.train_labels) if inception else None
    return domain, incep


def score_names(samples: int, inception: int = 0) -> dict[str, str]:
    """Column -> protocol name of the final scores (e.g. fid_domain -> fid_domain_4k)."""
    from evogan.metrics.scorer import metric_name

    names = {"fid_domain": metric_name("fid", "domain", samples), "is_domain": metric_name("is", "domain", samples)}
    if inception:
        names["fid_inception"] = metric_name("fid", "inception", inception)
    return names


def add_recorded(study: Study, path: Path, names: dict[str, str]) -> None:
    """Add an earlier report's seeds of this study (checked first; ConfigError naming a mismatch)."""
    live = {(t.group, t.seed) for t in study.trials} | {(r.group, r.seed) for r in study.recorded}
    trials, source = read_recorded(Path(path).expanduser(), study.info, names, study.study.real_samples,
                                   study.steps, live)
    study.recorded.extend(trials)
    study.info.setdefault("seeds_from", []).append(source)


def score_trials(study: Study, samples: int, inception: int = 0, cache_dir: str | None = None,
                 log: Callable[[str], None] = print) -> dict[str, str]:
    """Score every trial's final generator in place; returns :func:`score_names`."""
    domain, incep = reference_scorers(study, cache_dir, inception)
    names = score_names(samples, inception)
    first_seed: set[str] = set()
    for trial in sorted(study.trials, key=lambda t: (t.group, t.seed)):
        if trial.checkpoint is None:
            log(f"  {trial.path.name}: no checkpoint, not scored")
            continue
        images = sample_final(trial.checkpoint, samples)
        report = domain.report(images, "domain", kid=False, inception_score=False, is_domain=True)
        trial.scores["fid_domain"] = report[names["fid_domain"]]
        trial.scores["is_domain"] = report.get(names["is_domain"], math.nan)
        if incep is not None and trial.group not in first_seed:
            first_seed.add(trial.group)
            trial.scores["fid_inception"] = incep.fid(images[:inception], "inception")
        log(f"  {trial.group} seed {trial.seed}: " + ", ".join(f"{names[k]} {v:.4g}" for k, v in trial.scores.items()))
    return names


# ----------------------------------------------------------------------------- aggregation


def trial_figures(study: Study, trial: Trial) -> dict[str, float]:
    """Every column of one trial: scores, training-time metric (best, final), stability, time."""
    fids = [float(row.get(study.metric, math.nan)) for row in trial.rows]
    finite = [f for f in fids if math.isfinite(f) and f < 1e8]
    figures = {"best_fid": min(finite) if finite else math.nan, "final_fid": fids[-1] if fids else math.nan,
               "sec_per_step": trial.seconds_per_step(), "steps": float(trial.steps)}
    figures.update(stability(trial.rows, study.metric))
    figures.update(trial.scores)
    return figures


def aggregate(study: Study) -> list[dict[str, Any]]:
    """One row per group: label, seeds (recorded ones included, in seed order), steps, and
    (mean, std, n) of every column."""
    rows = []
    for group, trials in study.groups().items():
        seeded = [(t.seed, trial_figures(study, t)) for t in trials]
        seeded += [(r.seed, r.figures) for r in study.recorded if r.group == group]
        seeded.sort(key=lambda pair: pair[0])
        figures = [f for _, f in seeded]
        columns = sorted({k for f in figures for k in f})
        row: dict[str, Any] = {"group": group, "seeds": [seed for seed, _ in seeded],
                               "assignments": {k: v for k, v in trials[0].assignments.items() if k != "seed"},
                               "values": {c: [f.get(c, math.nan) for f in figures] for c in columns}}
        row["stats"] = {c: mean_std(vals) for c, vals in row["values"].items()}
        rows.append(row)
    return rows


def verdicts(study: Study, rows: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """One entry per claim: verdict, p, and both sides' mean/std/n."""
    by_group = {row["group"]: row for row in rows}
    out = []
    for claim in study.study.claims:
        arm, base = by_group.get(claim.arm), by_group.get(claim.baseline)
        column = names.get(claim.metric, claim.metric)
        if arm is None or base is None:
            missing = claim.arm if arm is None else claim.baseline
            out.append({"claim": claim.text, "verdict": "inconclusive", "p": math.nan, "metric": column,
                        "note": f"no row {missing!r} in this experiment"})
            continue
        a, b = arm["values"].get(claim.metric, []), base["values"].get(claim.metric, [])
        result, p = verdict(a, b, claim.metric in HIGHER_IS_BETTER, claim.alpha)
        out.append({"claim": claim.text, "verdict": result, "p": p, "metric": column, "arm": claim.arm,
                     "baseline": claim.baseline, "arm_stats": mean_std(a), "baseline_stats": mean_std(b),
                     "alpha": claim.alpha})
    return out


def check_complete(study: Study) -> list[str]:
    """Warnings: trials that trained fewer steps than the budget (ASHA-stopped, diverged, failed)."""
    short = [t for t in study.trials if t.steps < study.steps]
    if not short:
        return []
    return [f"{len(short)} of {len(study.trials)} trials trained fewer than trainer.steps={study.steps} steps "
            f"(early-stopped, diverged or failed): " + ", ".join(f"{t.group} seed {t.seed} ({t.steps})" for t in short)]


def require_scorable(study: Study) -> None:
    if not any(t.checkpoint for t in study.trials):
        raise ConfigError(f"{study.directory}: no trial has a checkpoint to score")
