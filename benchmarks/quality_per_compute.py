"""Quality per compute: memetic coevolution against GA, one DCGAN, random search and Tune PBT.

One command runs the whole matrix (arms x datasets x seeds) as trials of Ray Tune experiments
under one storage path, scores every arm's final best generator with ``fid_domain_4k`` and
(seed 0 of the full dataset only) ``fid_inception_1k``, and writes a JSON, a Markdown table and
PNG plots to ``benchmarks/results/``::

    python benchmarks/quality_per_compute.py              # the matrix (see benchmarks/README.md)
    python benchmarks/quality_per_compute.py --smoke      # tiny version (about a minute), for a test
    tensorboard --logdir runs/benchmarks/quality_per_compute-<stamp>   # trials side by side

Arms at equal compute (N individuals, G evaluation rounds, S Adam steps per individual and
round; one "Adam step" = one D update and one G update on one minibatch):

(a) ``memetic``: evogan's GA-GAN (``evolution.mode=memetic``): N G's and N D's, N*S pair steps
    and N fitness FIDs per generation, G generations (Engine + LocalBackend, one shard).
(b) ``ga``: the same with ``evolution.mode=ga``: no Adam steps, the same N*G evaluations.
(c) ``single``: one DCGAN trained N*G*S steps, evaluated every S steps (N*G evaluations).
(d) ``random_search``: N independent DCGANs of G*S steps, each evaluated every S steps, with
    lr_g, lr_d = train.lr * exp(tau * N(0, 1)) (tau = evolution.init_lr_tau, or 0.3 when that
    is 0; clipped to evolution.lr_bounds); the best by its last fitness FID.
(d0) ``default_copies``: the same with N copies of the default learning rates.
(e) ``pbt``: Tune's PopulationBasedTraining over evogan's Tune trainable (``gan_trainable``)
    with N trials of G iterations of S steps; initial learning rates and seeds those of (d).

Each arm's "best generator" is the individual with the lowest fitness FID (``fid_domain_256``)
at its last evaluation; its 4096 samples are scored against the dataset's real statistics.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from evogan.config import Config, ConfigError, build_dataclass, read_yaml, set_dotted  # noqa: E402
from evogan.evolution.mixture import population_mixture, sample_population_mixture  # noqa: E402
from evogan.seeding import derive_seed, numpy_rng  # noqa: E402

DEFAULT_CONFIG = REPO / "configs" / "benchmarks" / "quality_per_compute.yaml"
DEFAULT_OUT = REPO / "benchmarks" / "results"
DEFAULT_STORAGE = REPO / "runs" / "benchmarks"
FASHION_ROOT = "/usr/share/datasets/fashion-mnist"

ARMS = ("memetic", "ga", "single", "random_search", "default_copies", "pbt")
TUNE_GRID_ARMS = ARMS[:-1]
LABELS = {"memetic": "(a) memetic coevolution", "ga": "(b) pure GA", "single": "(c) one DCGAN, N*G*S steps",
          "random_search": "(d) best of N, random lr", "default_copies": "(d0) best of N, default lr",
          "pbt": "(e) Tune PBT", "mixture": "(a+) mixture of (a)'s final G's"}
DATASETS = ("full", "subset")
DATASET_LABELS = {"full": "Fashion-MNIST, full (59,488 train images)",
                  "subset": "Fashion-MNIST, 1,000-image subset"}
DATA_SPLIT_SEED = 0
"""Every run of a dataset sees the same train/holdout split (and so the same FID reference)."""
SUBSET_LIMIT = 1000
FITNESS_EXTRACTOR = "domain"
WORST = 1.0e9


@dataclass(frozen=True)
class Budget:
    population: int = 4
    generations: int = 10
    steps: int = 60
    batch_size: int = 64
    width: int = 32
    latent: int = 64
    eval_samples: int = 256
    final_samples: int = 4096
    inception_samples: int = 1000
    tau: float = 0.3

    @property
    def total_steps(self) -> int:
        return self.population * self.generations * self.steps

    @property
    def evaluations(self) -> int:
        return self.population * self.generations


@dataclass
class Plan:
    budget: Budget
    base: dict[str, Any]
    datasets: tuple[str, ...]
    seeds: tuple[int, ...]
    arms: tuple[str, ...]
    out: Path
    experiment: Path
    max_concurrent: int
    inception: bool
    dashboard: bool
    smoke: bool = False
    subset_limit: int = SUBSET_LIMIT
    variant: str = "dcgan"
    """model.variant of every arm (``--variant``): the variants table's memetic-vs-alone rows."""
    pbt: dict[str, Any] = field(default_factory=lambda: {"perturbation_interval": 2, "quantile_fraction": 0.25,
                                                          "resample_probability": 0.25,
                                                          "perturbation_factors": (1.2, 0.8)})


# ----------------------------------------------------------------------------- configs


def arm_label(plan: Plan, arm: str) -> str:
    """LABELS[arm], naming the trained variant where it is not the DCGAN."""
    return LABELS[arm] if plan.variant == "dcgan" else LABELS[arm].replace("DCGAN", plan.variant)


def variant_overrides(variant: str, options: list[str]) -> dict[str, Any]:
    """model.variant and ``--model-option KEY=VALUE`` pairs (values read as YAML) as dotted overrides."""
    import yaml

    pairs: dict[str, Any] = {"model.variant": variant}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key:
            raise ConfigError(f"--model-option {option!r}: expected KEY=VALUE")
        pairs[f"model.options.{key}"] = yaml.safe_load(value)
    return pairs


def lr_overrides(lr: float | None) -> dict[str, Any]:
    """``--lr``: train.lr_g and train.lr_d of every arm (none: the config's)."""
    return {} if lr is None else {"train.lr_g": lr, "train.lr_d": lr}


def with_overrides(raw: dict[str, Any], pairs: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    for key, value in pairs.items():
        set_dotted(out, key.split("."), value)
    return out


def budget_overrides(budget: Budget) -> dict[str, Any]:
    return {"model.width": budget.width, "model.latent_dim": budget.latent, "train.batch_size": budget.batch_size,
            "train.steps_per_generation": budget.steps, "evolution.population_size": budget.population,
            "evolution.generations": budget.generations, "evolution.num_actors": 1,
            "fitness.eval_samples": budget.eval_samples, "metrics.report_samples": budget.final_samples,
            "metrics.fitness_extractor": FITNESS_EXTRACTOR}


def dataset_raw(plan: Plan, dataset: str) -> dict[str, Any]:
    """The base config of one dataset (the subset adds data.limit)."""
    return with_overrides(plan.base, {"data.limit": plan.subset_limit if dataset == "subset" else 0})


def build_config(raw: dict[str, Any]) -> Config:
    from evogan.validation import validate

    config = build_dataclass(Config, raw)
    validate(config)
    return config


def search_tau(config: Config, budget: Budget) -> float:
    return config.evolution.init_lr_tau or budget.tau


def member_seed(seed: int, index: int) -> int:
    """Seed of the index-th independent DCGAN of (d), (d0) and (e) (31 bits: a valid YAML int)."""
    return derive_seed(seed, "independent", index) % (2 ** 31)


def random_lrs(config: Config, budget: Budget, seed: int, index: int) -> tuple[float, float]:
    """(lr_g, lr_d) of the index-th random-search member: train.lr * exp(tau N(0,1)), clipped."""
    from evogan.evolution.operators import perturb_learning_rate

    rng = numpy_rng(seed, "random-search", index)
    tau, bounds = search_tau(config, budget), tuple(config.evolution.lr_bounds)
    return (perturb_learning_rate(config.train.lr_g, rng, tau, bounds),
            perturb_learning_rate(config.train.lr_d, rng, tau, bounds))


def load_dataset(raw: dict[str, Any]):
    from evogan.data import load_data

    config = build_config(raw)
    return load_data(config.data, seed=DATA_SPLIT_SEED)


def make_scorer(raw: dict[str, Any], data) -> Any:
    from evogan.metrics.scorer import QualityScorer

    config = build_config(raw)
    return QualityScorer(config.metrics, data.key, data.train, data.train_labels, device="cpu")


# ----------------------------------------------------------------------------- one arm, in-process


class Recorder:
    """The curve of one arm: one point per evaluation round (N evaluations, N*S steps)."""

    def __init__(self, report: Callable[[dict[str, Any]], None] | None):
        self.report = report
        self.started = time.perf_counter()
        self.adam_steps = 0
        self.evaluations = 0
        self.best = math.inf
        self.curve: list[dict[str, Any]] = []

    def evaluated(self, fids: list[float], steps: int) -> None:
        self.adam_steps += steps
        self.evaluations += len(fids)
        finite = [f for f in fids if math.isfinite(f)]
        if finite:
            self.best = min(self.best, min(finite))

    def round_done(self, round_index: int, round_fids: list[float]) -> None:
        finite = [f for f in round_fids if math.isfinite(f)]
        point = {"round": round_index + 1, "adam_steps": self.adam_steps, "evaluations": self.evaluations,
                 "elapsed_s": time.perf_counter() - self.started,
                 "round_best_fid": min(finite) if finite else WORST,
                 "best_fid_so_far": self.best if math.isfinite(self.best) else WORST}
        self.curve.append(point)
        if self.report is not None:
            self.report(dict(point))


def final_scores(images: torch.Tensor, scorer: Any, full_scorer: Any | None) -> dict[str, float]:
    out = scorer.report(images, FITNESS_EXTRACTOR, kid=False, inception_score=False)
    if full_scorer is not None:
        out.update({f"{k}_fullref": v for k, v in
                    full_scorer.report(images, FITNESS_EXTRACTOR, kid=False, inception_score=False).items()})
    return out


def final_mixture_scores(engine, backend, budget: Budget, seed: int, scorer, full_scorer) -> dict[str, Any]:
    """The FID-optimised mixture of the final generators (weights fitted on 1,024-image pools by
    the ES, as ``evogan.run`` does), scored like the arm's best G on fresh samples."""
    started = time.perf_counter()
    result = population_mixture(engine, backend, lambda f: scorer.fid_from_features(f, FITNESS_EXTRACTOR),
                                samples=1024, iterations=20, seed=derive_seed(seed, "mixture"),
                                embed=lambda x: scorer.features(x, FITNESS_EXTRACTOR))
    images = sample_population_mixture(engine, backend, result, budget.final_samples,
                                       derive_seed(derive_seed(seed, "mixture"), "report"))
    return {**final_scores(images, scorer, full_scorer), "weights": dict(zip(map(str, result.uids), result.weights)),
            "pool_fid": result.fid, "best_single_pool_fid": result.best_single_fid,
            "seconds": time.perf_counter() - started}


def run_population(mode: str, raw: dict[str, Any], budget: Budget, seed: int, data, scorer, recorder: Recorder,
                   full_scorer=None, inception_n: int = 0) -> dict[str, Any]:
    """(a) memetic / (b) ga: evogan's Engine over one in-process shard."""
    from evogan.evolution.engine import Engine
    from evogan.evolution.local_backend import LocalBackend

    config = build_config(with_overrides(raw, {"seed": seed, "evolution.mode": mode}))
    quality = lambda batches: scorer.fid_many(batches, FITNESS_EXTRACTOR)  # noqa: E731
    backend = LocalBackend(config, data.train, data.holdout, quality, num_shards=1)
    steps_per_generation = budget.population * budget.steps if mode == "memetic" else 0
    last: dict[str, Any] = {}

    def on_generation(summary: dict[str, Any], engine: Engine) -> None:
        rows = [r for r in summary["individuals"] if r["population"] == "g"]
        fids = [float(r["fid"]) if r["valid"] else math.nan for r in rows]
        recorder.evaluated(fids, steps_per_generation)
        recorder.round_done(summary["generation"], fids)
        last["rows"] = rows

    engine = Engine(config, backend, on_generation=on_generation)
    engine.initialize()
    engine.run()
    rows = [r for r in last["rows"] if r["valid"] and math.isfinite(r["fid"])] or last["rows"]
    best = min(rows, key=lambda r: r["fid"] if math.isfinite(r["fid"]) else math.inf)
    report_seed = derive_seed(seed, "final-report")
    images = backend.samples(best["slot"], best["uid"], budget.final_samples, report_seed)
    hps = {m.uid: {"lr_g": m.hp.lr_g, "lr_d": m.hp.lr_d, "loss": m.hp.loss}
           for shard in backend.shards for members in shard.members.values() for m in members.values()}
    final = {"uid": best["uid"], "fitness_fid": float(best["fid"]), "hp": hps.get(best["uid"], {}),
             **final_scores(images, scorer, full_scorer)}
    if mode == "memetic":  # the mixture arm: the final population's generators, weights fitted by the ES
        final["mixture"] = final_mixture_scores(engine, backend, budget, seed, scorer, full_scorer)
    hof = engine.hall_of_fame[0] if len(engine.hall_of_fame) else None
    alive = {h.uid: h.slot for h in engine.handles["g"]}
    hof_info: dict[str, Any] = {"uid": hof.uid if hof else None, "alive": bool(hof and hof.uid in alive),
                                "fitness_fid_when_entered": -hof.objectives[0] if hof else None}
    if hof is not None and hof.uid in alive:
        if hof.uid == best["uid"]:
            hof_info["fid_domain"] = final[f"fid_domain_{fmt(budget.final_samples)}"]
        else:
            hof_images = backend.samples(alive[hof.uid], hof.uid, budget.final_samples, report_seed)
            hof_info["fid_domain"] = scorer.report(hof_images, FITNESS_EXTRACTOR, kid=False)[
                f"fid_domain_{fmt(budget.final_samples)}"]
    inception_images = (backend.samples(best["slot"], best["uid"], inception_n, derive_seed(seed, "inception"))
                        if inception_n else None)
    return {"final": final, "hall_of_fame": hof_info, "variant": backend.shards[0].variant.name,
            "last_generation": [{"uid": r["uid"], "fid": r["fid"], **hps.get(r["uid"], {})} for r in last["rows"]],
            "last_d_generation": [{"uid": uid, **hp} for uid, hp in hps.items()
                                  if uid not in {r["uid"] for r in last["rows"]}]}, inception_images


def trainer_specs(arm: str, config: Config, budget: Budget, seed: int) -> list[dict[str, Any]]:
    """(c): one DCGAN; (d): N random-lr DCGANs; (d0): N default-lr DCGANs."""
    lr = (config.train.lr_g, config.train.lr_d)
    if arm == "single":
        return [{"seed": seed, "lr": lr, "steps": budget.total_steps, "per_round": budget.population}]
    return [{"seed": member_seed(seed, i), "lr": random_lrs(config, budget, seed, i) if arm == "random_search" else lr,
             "steps": budget.generations * budget.steps, "per_round": 1} for i in range(budget.population)]


def run_trainers(arm: str, raw: dict[str, Any], budget: Budget, seed: int, data, scorer, recorder: Recorder,
                 full_scorer=None, inception_n: int = 0) -> dict[str, Any]:
    """(c) / (d) / (d0): IndividualTrainer(s), round by round (each round: N evaluations, N*S steps)."""
    from evogan.training.loop import IndividualTrainer, is_finite_record
    from evogan.training.loop_config import TrainerConfig

    base = build_config(with_overrides(raw, {"seed": seed}))
    specs = trainer_specs(arm, base, budget, seed)
    trainers, last, alive = [], [], []
    for spec in specs:
        config = build_config(with_overrides(raw, {"seed": spec["seed"], "train.lr_g": spec["lr"][0],
                                                   "train.lr_d": spec["lr"][1]}))
        trainers.append(IndividualTrainer(config, TrainerConfig(steps=spec["steps"], eval_every=budget.steps),
                                          data.train, data.holdout))
        last.append(math.nan)
        alive.append(True)
    quality = lambda images: scorer.fid(images, FITNESS_EXTRACTOR)  # noqa: E731
    for round_index in range(budget.generations):
        round_fids = []
        for i, (trainer, spec) in enumerate(zip(trainers, specs)):
            for _ in range(spec["per_round"]):
                if not alive[i]:
                    round_fids.append(math.nan)
                    continue
                before = trainer.step
                record = trainer.iterate(budget.steps, quality)
                fid = float(record["fid"]) if is_finite_record(record) else math.nan
                alive[i] = math.isfinite(fid)
                last[i] = fid
                round_fids.append(fid)
                recorder.evaluated([fid], trainer.step - before)
        recorder.round_done(round_index, round_fids)
    index = min(range(len(trainers)), key=lambda i: last[i] if math.isfinite(last[i]) else math.inf)
    report_seed = derive_seed(seed, "final-report")
    images = trainers[index].samples(budget.final_samples, report_seed)
    final = {"index": index, "fitness_fid": last[index], "hp": {"lr_g": specs[index]["lr"][0],
                                                                 "lr_d": specs[index]["lr"][1]},
             **final_scores(images, scorer, full_scorer)}
    members = [{"seed": s["seed"], "lr_g": s["lr"][0], "lr_d": s["lr"][1], "last_fid": f, "steps": t.step}
               for s, f, t in zip(specs, last, trainers)]
    inception_images = trainers[index].samples(inception_n, derive_seed(seed, "inception")) if inception_n else None
    return {"final": final, "members": members, "variant": trainers[index].variant.name}, inception_images


def fmt(n: int) -> str:
    from evogan.metrics.scorer import format_count

    return format_count(n)


def run_arm(arm: str, dataset: str, seed: int, plan: Plan, data_by_name: dict[str, Any],
            report: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run one of arms (a)-(d0) in this process; returns its record (curve, counts, final scores)."""
    torch.set_num_threads(1)
    raw = dataset_raw(plan, dataset)
    data = data_by_name[dataset]
    scorer = make_scorer(raw, data)
    scorer.warm_up(FITNESS_EXTRACTOR)
    full_scorer = None
    if dataset == "subset" and "full" in data_by_name:
        full_scorer = make_scorer(dataset_raw(plan, "full"), data_by_name["full"])
        full_scorer.warm_up(FITNESS_EXTRACTOR)
    inception_n = plan.budget.inception_samples if wants_inception(plan, dataset, seed) else 0
    recorder = Recorder(report)
    runner = run_population if arm in ("memetic", "ga") else run_trainers
    details, inception_images = runner(arm, raw, plan.budget, seed, data, scorer, recorder, full_scorer, inception_n)
    record = {"arm": arm, "dataset": dataset, "seed": seed, "adam_steps": recorder.adam_steps,
              "evaluations": recorder.evaluations, "wall_s": time.perf_counter() - recorder.started,
              "compute_s": time.perf_counter() - recorder.started, "curve": recorder.curve, **details}
    if inception_images is not None:
        path = plan.experiment / "raw" / f"inception_samples_{dataset}_{arm}_s{seed}.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, images=inception_images.numpy())
        record["inception_samples"] = str(path)
    return record


def wants_inception(plan: Plan, dataset: str, seed: int) -> bool:
    return plan.inception and dataset == "full" and seed == min(plan.seeds)


def raw_path(plan: Plan, dataset: str, arm: str, seed: int) -> Path:
    return plan.experiment / "raw" / f"{dataset}_{arm}_s{seed}.json"


def error_text(error: Any) -> str:
    lines = [l for l in str(error).splitlines() if l.strip()]
    return " | ".join(lines[-3:])[-600:]


def write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=float))
    tmp.replace(path)


# ----------------------------------------------------------------------------- Tune: arms (a)-(d0)


def arm_trainable(trial_config: dict[str, Any], *, plan: Plan, arrays: dict[str, dict[str, Any]]) -> None:
    """Tune function trainable: one arm x dataset x seed, run in-process; one report per round."""
    from ray import tune

    data_by_name = {name: as_image_data(a) for name, a in arrays.items()}
    arm, dataset, seed = trial_config["arm"], trial_config["dataset"], int(trial_config["seed"])

    def report(point: dict[str, Any]) -> None:
        tune.report({"best_fid_so_far": point["best_fid_so_far"], "round_best_fid": point["round_best_fid"],
                     "adam_steps": point["adam_steps"], "evaluations": point["evaluations"],
                     "elapsed_s": point["elapsed_s"]})

    record = run_arm(arm, dataset, seed, plan, data_by_name, report)
    write_json(raw_path(plan, dataset, arm, seed), record)
    metric = f"fid_domain_{fmt(plan.budget.final_samples)}"
    tune.report({"best_fid_so_far": record["curve"][-1]["best_fid_so_far"],
                 "round_best_fid": record["curve"][-1]["round_best_fid"], "adam_steps": record["adam_steps"],
                 "evaluations": record["evaluations"], "elapsed_s": record["wall_s"],
                 f"final_{metric}": record["final"][metric], "done": True})


class _Data:
    """The parts of evogan.data.ImageData the arms use (rebuilt from object-store arrays)."""

    def __init__(self, a: dict[str, Any]):
        self.train = torch.from_numpy(np.array(a["train"]))
        self.holdout = torch.from_numpy(np.array(a["holdout"]))
        self.train_labels = torch.from_numpy(np.array(a["labels"])) if a["labels"] is not None else None
        self.key = a["key"]


def as_image_data(a: dict[str, Any]) -> _Data:
    return _Data(a)


def data_arrays(data) -> dict[str, Any]:
    return {"train": data.train.numpy(), "holdout": data.holdout.numpy(),
            "labels": data.train_labels.numpy() if data.train_labels is not None else None, "key": data.key}


def run_arm_grid(plan: Plan, data_by_name: dict[str, Any], experiment: Path) -> list[str]:
    """Arms (a)-(d0) x datasets x seeds as the trials of ONE Tune experiment; returns trial errors."""
    from ray import tune
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback, TBXLoggerCallback

    arms = [a for a in plan.arms if a in TUNE_GRID_ARMS]
    if not arms:
        return []
    arrays = {name: data_arrays(d) for name, d in data_by_name.items()}
    trainable = tune.with_resources(tune.with_parameters(arm_trainable, plan=plan, arrays=arrays), {"cpu": 1})
    param_space = {"arm": tune.grid_search(arms), "dataset": tune.grid_search(list(plan.datasets)),
                   "seed": tune.grid_search(list(plan.seeds))}
    tuner = tune.Tuner(
        trainable, param_space=param_space,
        tune_config=tune.TuneConfig(max_concurrent_trials=plan.max_concurrent, reuse_actors=True),
        run_config=tune.RunConfig(name="arms_a-d", storage_path=str(experiment),
                                  callbacks=[CSVLoggerCallback(), JsonLoggerCallback(), TBXLoggerCallback()],
                                  verbose=0 if plan.smoke else 1,
                                  failure_config=tune.FailureConfig(max_failures=0)))
    grid = tuner.fit()
    return [f"{r.config}: {error_text(r.error)}" for r in grid if r.error is not None]


# ----------------------------------------------------------------------------- Tune: arm (e) PBT


PBT_KEYS = ["seed", "train.lr_g", "train.lr_d"]
"""What a PBT trial sets on the base: its seed and learning rates (evogan's trial_assignments keys)."""


def pbt_base(plan: Plan, dataset: str) -> dict[str, Any]:
    return with_overrides(dataset_raw(plan, dataset), {
        "trainer.steps": plan.budget.generations * plan.budget.steps, "trainer.eval_every": plan.budget.steps})


def run_pbt(plan: Plan, dataset: str, seed: int, data, experiment: Path, fid_actor: Any) -> dict[str, Any]:
    """(e): N trials of evogan's ``gan_trainable`` under PopulationBasedTraining (synchronous)."""
    from ray import tune
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback, TBXLoggerCallback
    from ray.tune.schedulers import PopulationBasedTraining

    from evogan.metrics.scorer import metric_name
    from evogan.tune.trainable import gan_trainable

    budget = plan.budget
    base = pbt_base(plan, dataset)
    config = build_config({k: v for k, v in base.items() if k != "trainer"})
    metric = metric_name("fid", FITNESS_EXTRACTOR, budget.eval_samples)
    starts = [{"seed": member_seed(seed, i), "lr": random_lrs(config, budget, seed, i)}
              for i in range(budget.population)]
    low, high = config.evolution.lr_bounds
    tau, lr0 = search_tau(config, budget), (config.train.lr_g, config.train.lr_d)

    def resample(which: int) -> Callable[[], float]:
        return lambda: float(min(max(lr0[which] * math.exp(tau * random.gauss(0.0, 1.0)), low), high))

    def clip(new_config: dict[str, Any]) -> dict[str, Any]:
        for key in ("lr_g", "lr_d"):
            new_config["train"][key] = float(min(max(new_config["train"][key], low), high))
        return new_config

    random.seed(derive_seed(seed, "pbt") % (2 ** 32))
    scheduler = PopulationBasedTraining(
        time_attr="training_iteration", perturbation_interval=plan.pbt["perturbation_interval"],
        hyperparam_mutations={"train": {"lr_g": resample(0), "lr_d": resample(1)}},
        quantile_fraction=plan.pbt["quantile_fraction"], resample_probability=plan.pbt["resample_probability"],
        perturbation_factors=tuple(plan.pbt["perturbation_factors"]), custom_explore_fn=clip, synch=True)
    param_space = {
        "member": tune.grid_search(list(range(budget.population))),
        "seed": tune.sample_from(lambda spec: starts[spec.config["member"]]["seed"]),
        "train": {"lr_g": tune.sample_from(lambda spec: starts[spec.config["member"]]["lr"][0]),
                  "lr_d": tune.sample_from(lambda spec: starts[spec.config["member"]]["lr"][1])}}
    trainable = tune.with_parameters(gan_trainable, base=base, keys=PBT_KEYS,
                                     metric=metric, train_images=data.train.numpy(),
                                     holdout=data.holdout.numpy(), fid_actor=fid_actor)
    trainable = tune.with_resources(trainable, {"cpu": 1})
    collector = ResultCollector(metric)
    started = time.perf_counter()
    tuner = tune.Tuner(
        trainable, param_space=param_space,
        # No max_concurrent_trials here: it would hold back the creation of trials N/2+1..N
        # until the first ones finish, and PBT would never see them. Ray's CPUs (one per
        # trial, max_concurrent in all) keep the others PENDING / PAUSED instead.
        tune_config=tune.TuneConfig(metric=metric, mode="min", scheduler=scheduler, reuse_actors=True),
        run_config=tune.RunConfig(
            name=f"pbt_{dataset}_s{seed}", storage_path=str(experiment),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=4),
            callbacks=[CSVLoggerCallback(), JsonLoggerCallback(), TBXLoggerCallback(), collector],
            verbose=0 if plan.smoke else 1, failure_config=tune.FailureConfig(max_failures=0)))
    grid = tuner.fit()
    wall = time.perf_counter() - started
    return summarize_pbt(plan, dataset, seed, data, grid, metric, wall, starts, collector.rows)


def result_collector_class():
    from ray.tune import Callback

    class _Collector(Callback):
        """Every result of every trial as it arrives (PBT restores make per-trial CSVs incomplete)."""

        def __init__(self, metric: str):
            self.metric, self.rows = metric, []

        def on_trial_result(self, iteration, trials, trial, result, **info):
            self.rows.append({"trial": trial.trial_id, "iteration": int(result["training_iteration"]),
                              "fid": float(result.get(self.metric, WORST)), "step": int(result.get("step", -1)),
                              "seconds": float(result.get("time_this_iter_s", math.nan)),
                              "lr_g": float(result.get("lr_g", math.nan)), "lr_d": float(result.get("lr_d", math.nan))})

    return _Collector


def ResultCollector(metric: str):  # noqa: N802 (a class made lazily: ray is imported only when used)
    return result_collector_class()(metric)


def summarize_pbt(plan: Plan, dataset: str, seed: int, data, grid: Any, metric: str, wall: float,
                  starts: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Curve from every reported iteration; the final best trial (lowest last fitness FID) scored at 4k."""
    from evogan.io.checkpoint import load_checkpoint
    from evogan.training.loop import IndividualTrainer
    from evogan.tune.trainable import CHECKPOINT_FILE, trial_configs

    budget = plan.budget
    errors = [f"{r.config}: {error_text(r.error)}" for r in grid if r.error is not None]
    curve, best, spent = [], math.inf, 0.0
    for it in range(1, budget.generations + 1):
        at = [r for r in rows if r["iteration"] == it]
        fids = [r["fid"] for r in at if math.isfinite(r["fid"]) and r["fid"] < WORST]
        spent += sum(r["seconds"] for r in at if math.isfinite(r["seconds"]))
        best = min([best, *fids])
        curve.append({"round": it, "adam_steps": len([r for r in rows if r["iteration"] <= it]) * budget.steps,
                      "evaluations": len([r for r in rows if r["iteration"] <= it]), "elapsed_s": spent,
                      "round_best_fid": min(fids) if fids else WORST,
                      "best_fid_so_far": best if math.isfinite(best) else WORST})
    finals = []
    for result in grid:
        if result.checkpoint is None or result.metrics is None:
            continue
        finals.append((float(result.metrics.get(metric, WORST)), result))
    last_fid, chosen = min(finals, key=lambda f: f[0])
    with chosen.checkpoint.as_directory() as directory:
        payload = load_checkpoint(Path(directory) / CHECKPOINT_FILE, kind="tune_trial")
    # The trial's own (Config, TrainerConfig), rebuilt from this benchmark's base the way
    # gan_trainable builds it (not from the checkpoint's copy of the config).
    config, trainer_cfg = trial_configs(pbt_base(plan, dataset), PBT_KEYS, chosen.config)
    torch.set_num_threads(1)
    trainer = IndividualTrainer(config, trainer_cfg, data.train, data.holdout)
    trainer.load_state_dict(payload["state"])
    raw = dataset_raw(plan, dataset)
    scorer = make_scorer(raw, data)
    full_scorer = None
    if dataset == "subset" and FULL_DATA.get("full") is not None:
        full_scorer = make_scorer(dataset_raw(plan, "full"), FULL_DATA["full"])
    images = trainer.samples(budget.final_samples, derive_seed(seed, "final-report"))
    final = {"trial": chosen.path.split("/")[-1] if chosen.path else None, "fitness_fid": last_fid,
             "step": trainer.step, "hp": {"lr_g": trainer.member.hp.lr_g, "lr_d": trainer.member.hp.lr_d},
             **final_scores(images, scorer, full_scorer)}
    record = {"arm": "pbt", "dataset": dataset, "seed": seed, "adam_steps": len(rows) * budget.steps,
              "evaluations": len(rows), "wall_s": wall, "compute_s": curve[-1]["elapsed_s"] if curve else math.nan,
              "curve": curve, "final": final, "members": [{"seed": s["seed"], "lr_g": s["lr"][0], "lr_d": s["lr"][1]}
                                                          for s in starts],
              "trials_last": [{"fid": f, "lr_g": r.config["train"]["lr_g"], "lr_d": r.config["train"]["lr_d"]}
                              for f, r in finals], "results": rows, "errors": errors}
    if wants_inception(plan, dataset, seed):
        path = plan.experiment / "raw" / f"inception_samples_{dataset}_pbt_s{seed}.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, images=trainer.samples(budget.inception_samples,
                                                         derive_seed(seed, "inception")).numpy())
        record["inception_samples"] = str(path)
    return record


FULL_DATA: dict[str, Any] = {}


# ----------------------------------------------------------------------------- Inception cross-check


_INCEPTION: dict[str, Any] = {}


def _inception_init(cache_dir: str, weights: str) -> None:
    torch.set_num_threads(1)
    from evogan.metrics.extractors import build_extractor

    _INCEPTION["net"] = build_extractor("inception", cache_dir=cache_dir, inception_weights=weights, batch_size=50)


def _inception_features(chunk: np.ndarray) -> np.ndarray:
    return _INCEPTION["net"].features(torch.from_numpy(chunk)).numpy().astype(np.float64)


def inception_cross_check(plan: Plan, full_data, sets: dict[str, Path], workers: int) -> dict[str, Any]:
    """fid_inception_1k: standard Inception FID of each arm's 1k samples against 1k real training images."""
    import concurrent.futures
    import multiprocessing

    from evogan.metrics.fid import FeatureStats, frechet_distance, sqrtm_psd
    from evogan.metrics.scorer import real_subset

    config = build_config(dataset_raw(plan, "full"))
    n = plan.budget.inception_samples
    images = {"real": full_data.train[real_subset(full_data.train.shape[0], n)].numpy()}
    images.update({arm: np.load(path)["images"] for arm, path in sets.items()})
    chunk = 125
    tasks = [(name, start) for name, arr in images.items() for start in range(0, len(arr), chunk)]
    started = time.perf_counter()
    stats = {name: FeatureStats(2048) for name in images}
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_inception_init,
                                                initargs=(config.metrics.cache_dir,
                                                          config.metrics.inception_weights)) as pool:
        futures = {pool.submit(_inception_features, images[name][start:start + chunk]): name
                   for name, start in tasks}
        for future in concurrent.futures.as_completed(futures):
            stats[futures[future]].update(future.result())
    seconds = time.perf_counter() - started
    real = stats.pop("real")
    root = sqrtm_psd(real.cov)
    fids = {arm: frechet_distance(real.mean, real.cov, s.mean, s.cov, sqrt_sigma1=root) for arm, s in stats.items()}
    total = sum(len(a) for a in images.values())
    return {"metric": f"fid_inception_{fmt(n)}", "real_images": len(images["real"]), "fids": fids,
            "seconds": seconds, "images_per_s": total / seconds}


# ----------------------------------------------------------------------------- aggregation, plots


def arm_records(records: list[dict[str, Any]], dataset: str, arm: str) -> list[dict[str, Any]]:
    """One arm's records of a dataset by seed; the mixture's are the memetic runs' with their
    ``final`` replaced by the mixture's scores (the same steps and evaluations)."""
    if arm == "mixture":
        rows = [{**r, "final": r["final"]["mixture"]} for r in records
                if r["dataset"] == dataset and "mixture" in r.get("final", {})]
    else:
        rows = [r for r in records if r["dataset"] == dataset and r["arm"] == arm]
    return sorted(rows, key=lambda r: r["seed"])


def table_arms(arms: tuple[str, ...] | list[str], records: list[dict[str, Any]]) -> list[str]:
    """The table's rows: the arms run, with the memetic arm's mixture right after it when scored."""
    scored = any("mixture" in r.get("final", {}) for r in records)
    return [row for arm in arms for row in ((arm, "mixture") if arm == "memetic" and scored else (arm,))]


def aggregate(plan: Plan, records: list[dict[str, Any]]) -> dict[str, Any]:
    metric = f"fid_domain_{fmt(plan.budget.final_samples)}"
    table: dict[str, dict[str, Any]] = {}
    for dataset in plan.datasets:
        table[dataset] = {}
        for arm in table_arms(plan.arms, records):
            rows = arm_records(records, dataset, arm)
            if not rows:
                continue
            values = [float(r["final"][metric]) for r in rows]
            entry = {"per_seed": {str(r["seed"]): v for r, v in zip(rows, values)},
                     "mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                     "adam_steps": sorted({r["adam_steps"] for r in rows}),
                     "evaluations": sorted({r["evaluations"] for r in rows}),
                     "wall_s_mean": float(np.mean([r["wall_s"] for r in rows])),
                     "compute_s_mean": float(np.mean([r.get("compute_s", r["wall_s"]) for r in rows])),
                     "fitness_fid_mean": float(np.mean([r["final"].get("fitness_fid", r["final"].get("pool_fid"))
                                                        for r in rows]))}
            if all(f"{metric}_fullref" in r["final"] for r in rows):
                full = [float(r["final"][f"{metric}_fullref"]) for r in rows]
                entry["fullref_mean"], entry["fullref_std"] = float(np.mean(full)), \
                    float(np.std(full, ddof=1)) if len(full) > 1 else 0.0
                entry["fullref_per_seed"] = {str(r["seed"]): v for r, v in zip(rows, full)}
            table[dataset][arm] = entry
    target = {}
    for dataset, arms in table.items():
        if not {"memetic", "random_search", "pbt"} <= arms.keys():
            continue
        for name, mean_key, seeds_key in (("", "mean", "per_seed"), ("_fullref", "fullref_mean", "fullref_per_seed")):
            if not all(mean_key in arms[a] for a in ("memetic", "random_search", "pbt")):
                continue
            rivals = {a: arms[a][mean_key] for a in ("random_search", "pbt")}
            rival = min(rivals, key=rivals.get)
            reduction = 1.0 - arms["memetic"][mean_key] / arms[rival][mean_key]
            every = all(arms["memetic"][seeds_key][s] < min(arms["random_search"][seeds_key][s],
                                                             arms["pbt"][seeds_key][s])
                        for s in arms["memetic"][seeds_key])
            target[dataset + name] = {"better_rival": rival, "reduction_vs_better_rival": reduction,
                                      "better_at_every_seed": every, "met": reduction >= 0.15 and every}
    return {"metric": metric, "table": table, "target": target}


def dataset_label(plan: Plan, dataset: str) -> str:
    name = plan.base.get("data", {}).get("name", "")
    if name == "fashion_mnist":
        return DATASET_LABELS[dataset]
    return f"{name}, {'all' if dataset == 'full' else f'{plan.subset_limit}-image subset'}"


def plot(plan: Plan, records: list[dict[str, Any]], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"memetic": "C3", "ga": "C7", "single": "C0", "random_search": "C2", "default_copies": "C8",
               "pbt": "C1", "mixture": "C5"}
    paths = []
    for x_key, x_label, name in (("adam_steps", "Adam steps (D+G pair updates), whole arm", "quality_vs_steps.png"),
                                 ("elapsed_s", "compute seconds (one 1-thread CPU process)",
                                  "quality_vs_wallclock.png")):
        fig, axes = plt.subplots(1, len(plan.datasets), figsize=(6.2 * len(plan.datasets), 4.6), squeeze=False)
        for ax, dataset in zip(axes[0], plan.datasets):
            for arm in plan.arms:
                rows = [r for r in records if r["dataset"] == dataset and r["arm"] == arm and r["curve"]]
                if not rows:
                    continue
                length = min(len(r["curve"]) for r in rows)
                xs = np.array([[p[x_key] for p in r["curve"][:length]] for r in rows], dtype=float)
                ys = np.array([[p["best_fid_so_far"] for p in r["curve"][:length]] for r in rows], dtype=float)
                ys = np.where(ys >= WORST, np.nan, ys)
                x = xs.mean(axis=0)
                if x_key == "adam_steps" and arm == "ga":  # no steps: draw it against the round's budget
                    x = np.arange(1, length + 1) * plan.budget.population * plan.budget.steps
                ax.plot(x, np.nanmean(ys, axis=0), color=colours[arm], label=arm_label(plan, arm) +
                        (" (x: round budget)" if x_key == "adam_steps" and arm == "ga" else ""))
                ax.fill_between(x, np.nanmin(ys, axis=0), np.nanmax(ys, axis=0), color=colours[arm], alpha=0.15)
            ax.set_yscale("log")
            ax.set_title(dataset_label(plan, dataset))
            ax.set_xlabel(x_label)
            ax.set_ylabel(f"best fitness FID so far (fid_domain_{fmt(plan.budget.eval_samples)})")
            ax.grid(alpha=0.3, which="both")
        axes[0][0].legend(fontsize=7)
        fig.suptitle(f"mean over seeds {list(plan.seeds)} (band: min-max)", fontsize=9)
        fig.tight_layout()
        path = out / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    metric = f"fid_domain_{fmt(plan.budget.final_samples)}"
    fig, axes = plt.subplots(1, len(plan.datasets), figsize=(6.2 * len(plan.datasets), 4.2), squeeze=False)
    for ax, dataset in zip(axes[0], plan.datasets):
        arms = [a for a in table_arms(plan.arms, records) if arm_records(records, dataset, a)]
        for i, arm in enumerate(arms):
            values = [r["final"][metric] for r in arm_records(records, dataset, arm)]
            ax.bar(i, np.mean(values), color=colours[arm], alpha=0.6)
            ax.scatter([i] * len(values), values, color="k", s=10, zorder=3)
        ax.set_xticks(range(len(arms)), [LABELS[a].split(" ")[0] for a in arms])
        ax.set_yscale("log")
        ax.set_title(dataset_label(plan, dataset))
        ax.set_ylabel(f"final {metric} of the best generator")
        ax.grid(alpha=0.3, axis="y", which="both")
    fig.tight_layout()
    path = out / "final_fid.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)
    return paths


def markdown(plan: Plan, summary: dict[str, Any]) -> str:
    agg, metric = summary["aggregate"], summary["aggregate"]["metric"]
    lines = []
    for dataset, arms in agg["table"].items():
        lines += [f"**{dataset_label(plan, dataset)}** ({metric}, lower is better)", "",
                  f"| arm | mean ± std | per seed ({', '.join(str(s) for s in plan.seeds)}) | Adam steps | "
                  f"FID evaluations | compute s / run |", "|---|---|---|---|---|---|"]
        for arm, e in arms.items():
            seeds = ", ".join(f"{e['per_seed'][str(s)]:.1f}" if str(s) in e["per_seed"] else "-" for s in plan.seeds)
            lines.append(f"| {arm_label(plan, arm)} | {e['mean']:.1f} ± {e['std']:.1f} | {seeds} | "
                         f"{'/'.join(str(v) for v in e['adam_steps'])} | "
                         f"{'/'.join(str(v) for v in e['evaluations'])} | {e['compute_s_mean']:.0f} |")
        if any("fullref_mean" in e for e in arms.values()):
            lines += ["", f"Same samples against the full dataset's reference ({metric}, full-data domain net and "
                      "statistics):", "", "| arm | mean ± std | per seed |", "|---|---|---|"]
            for arm, e in arms.items():
                if "fullref_mean" in e:
                    seeds = ", ".join(f"{e['fullref_per_seed'][str(s)]:.1f}" for s in plan.seeds
                                      if str(s) in e["fullref_per_seed"])
                    lines.append(f"| {arm_label(plan, arm)} | {e['fullref_mean']:.1f} ± {e['fullref_std']:.1f} "
                                 f"| {seeds} |")
        lines.append("")
    lr = summary.get("lr") or {}
    if lr:
        lines += [f"Starting learning rates: lr_g {lr['lr_g']:g}, lr_d {lr['lr_d']:g} "
                  "(the evolving arms mutate them).", ""]
    lines += ["compute s / run: seconds of one 1-thread process from the arm's start to its last evaluation "
              "(PBT: the sum of its trials' iteration times; its Tuner ran 2 trials at once). The machine was "
              "shared, so these vary with the load.", ""]
    for dataset, t in agg["target"].items():
        lines.append(f"- {dataset}: (a) vs the better of (d)/(e) = {t['better_rival']}: "
                     f"{100 * t['reduction_vs_better_rival']:+.1f}% lower mean FID, better at every seed: "
                     f"{t['better_at_every_seed']} -> target {'MET' if t['met'] else 'NOT met'}")
    timing = summary.get("timing") or {}
    if timing:
        parts = [f"arms (a)-(d0) grid {timing['arms_grid_s'] / 60:.1f} min" if "arms_grid_s" in timing else "",
                 f"PBT {sum(timing.get('pbt_s', {}).values()) / 60:.1f} min" if timing.get("pbt_s") else "",
                 f"Inception cross-check {timing['inception_s'] / 60:.1f} min" if "inception_s" in timing else ""]
        lines += ["", "Wall clock: " + ", ".join(p for p in parts if p) + "."]
    inc = summary.get("inception")
    if inc:
        lines += ["", f"{inc['metric']} (seed {min(plan.seeds)}, full dataset only; {inc['real_images']} real "
                  f"training images as reference; {inc['images_per_s']:.1f} images/s):", "",
                  "| arm | " + " | ".join(arm_label(plan, a) for a in inc["fids"]) + " |",
                  "|---|" + "---|" * len(inc["fids"]),
                  "| FID | " + " | ".join(f"{v:.1f}" for v in inc["fids"].values()) + " |"]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    b = Budget()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="base run config (YAML)")
    p.add_argument("--population", "-N", type=int, default=b.population, help="individuals N")
    p.add_argument("--generations", "-G", type=int, default=b.generations, help="generations / evaluation rounds G")
    p.add_argument("--steps", "-S", type=int, default=b.steps, help="Adam steps per individual per round S")
    p.add_argument("--batch-size", type=int, default=b.batch_size)
    p.add_argument("--variant", default="dcgan", help="model.variant of every arm (dcgan, cft_mr_edge, vaegan_attn, "
                                                      "mspg_sen): the variant alone vs as the memetic step")
    p.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE",
                   help="model.options.KEY for every arm (repeatable; VALUE read as YAML), e.g. ema_decay=0.999")
    p.add_argument("--lr", type=float, default=None,
                   help="train.lr_g and train.lr_d of every arm (default: the config's); "
                        "the memetic arm starts from it")
    p.add_argument("--width", type=int, default=b.width, help="model width")
    p.add_argument("--latent", type=int, default=b.latent, help="latent size")
    p.add_argument("--eval-samples", type=int, default=b.eval_samples, help="fitness FID samples per evaluation")
    p.add_argument("--final-samples", type=int, default=b.final_samples,
                   help="samples of the final FID (4096: fid_domain_4k)")
    p.add_argument("--inception-samples", type=int, default=b.inception_samples,
                   help="samples of the Inception cross-check (seed 0, full dataset)")
    p.add_argument("--no-inception", action="store_true", help="skip the Inception cross-check")
    p.add_argument("--tau", type=float, default=b.tau, help="random-search tau when evolution.init_lr_tau is 0")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    p.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    p.add_argument("--max-concurrent", type=int, default=2, help="trials at once (= processes training at once)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON, Markdown and PNGs")
    p.add_argument("--storage-path", type=Path, default=DEFAULT_STORAGE, help="Tune storage path (all experiments)")
    p.add_argument("--data-root", default=None, help=f"Fashion-MNIST directory (default: the YAML's, {FASHION_ROOT})")
    p.add_argument("--no-dashboard", action="store_true", help="start Ray without its dashboard")
    p.add_argument("--smoke", action="store_true", help="tiny run on the built-in shapes (about a minute), for tests")
    p.add_argument("--from-experiment", type=Path, default=None, metavar="DIR",
                   help="train nothing: re-aggregate DIR/raw/*.json of an earlier run made with the same flags "
                        "(and run its Inception cross-check unless --no-inception)")
    return p.parse_args(argv)


def make_plan(args: argparse.Namespace) -> Plan:
    budget = Budget(args.population, args.generations, args.steps, args.batch_size, args.width, args.latent,
                    args.eval_samples, args.final_samples, args.inception_samples, args.tau)
    base = read_yaml(args.config)
    datasets, seeds, arms, inception = tuple(args.datasets), tuple(args.seeds), tuple(args.arms), not args.no_inception
    subset_limit, pbt = SUBSET_LIMIT, None
    if args.smoke:
        budget = Budget(population=2, generations=2, steps=4, batch_size=16, width=8, latent=16, eval_samples=64,
                        final_samples=128, inception_samples=0, tau=budget.tau)
        base = with_overrides(base, {"data.name": "shapes", "data.num_samples": 600, "data.holdout": 64,
                                     "metrics.real_samples": 256})
        datasets, seeds, inception, subset_limit = ("full",), (0,), False, 200
        pbt = {"perturbation_interval": 1, "quantile_fraction": 0.5, "resample_probability": 0.25,
               "perturbation_factors": (1.2, 0.8)}
    if args.data_root:
        base = with_overrides(base, {"data.root": args.data_root})
    base = with_overrides(base, {**budget_overrides(budget), **variant_overrides(args.variant, args.model_option),
                                 **lr_overrides(args.lr)})
    stamp = time.strftime("%Y%m%d-%H%M%S")
    experiment = args.storage_path.resolve() / f"quality_per_compute-{'smoke-' if args.smoke else ''}{stamp}"
    if args.from_experiment is not None:
        experiment = args.from_experiment.resolve()
    out = experiment / "results" if args.smoke and args.out == DEFAULT_OUT else args.out.resolve()
    plan = Plan(budget, base, datasets, seeds, arms, out, experiment,
                args.max_concurrent, inception, dashboard=not (args.no_dashboard or args.smoke), smoke=args.smoke,
                subset_limit=subset_limit, variant=args.variant)
    if pbt:
        plan.pbt = pbt
    for dataset in datasets:  # fail on bad input before Ray starts
        build_config(dataset_raw(plan, dataset))
    return plan


def machine() -> dict[str, Any]:
    info = {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
            "platform": platform.platform()}
    try:
        model = [l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")]
        info["cpu"] = model[0].split(":", 1)[1].strip() if model else platform.processor()
        info["load_avg_start"] = list(os.getloadavg())
    except OSError:
        pass
    try:
        import ray

        info["ray"] = ray.__version__
    except ImportError:
        pass
    return info


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    plan = make_plan(args)
    torch.set_num_threads(1)
    started = time.perf_counter()
    info = machine()
    plan.out.mkdir(parents=True, exist_ok=True)
    experiment = plan.experiment
    (experiment / "raw").mkdir(parents=True, exist_ok=True)
    print(f"[qpc] experiment {experiment}; arms {plan.arms}; datasets {plan.datasets}; seeds {plan.seeds}; "
          f"budget {asdict(plan.budget)}", flush=True)

    data_by_name = {}
    for dataset in plan.datasets:  # load once; train the domain nets and cache real statistics once
        raw = dataset_raw(plan, dataset)
        data_by_name[dataset] = load_dataset(raw)
        make_scorer(raw, data_by_name[dataset]).warm_up(FITNESS_EXTRACTOR)
    FULL_DATA["full"] = data_by_name.get("full")
    print(f"[qpc] data ready ({time.perf_counter() - started:.0f} s)", flush=True)

    errors: list[str] = []
    timing_file = experiment / "timing.json"
    if args.from_experiment is None:
        errors += train_all(plan, data_by_name, experiment, started)
    timing = json.loads(timing_file.read_text()) if timing_file.is_file() else {}
    records = []
    for dataset in plan.datasets:
        for arm in plan.arms:
            for seed in plan.seeds:
                path = raw_path(plan, dataset, arm, seed)
                if path.is_file():
                    records.append(json.loads(path.read_text()))
                else:
                    errors.append(f"missing result {path.name}")
    command = " ".join(argv if argv is not None else sys.argv[1:])
    summary: dict[str, Any] = {"command": f"python benchmarks/quality_per_compute.py {command}".strip(),
                               "experiment": str(experiment), "machine": info, "budget": asdict(plan.budget),
                               "datasets": list(plan.datasets), "seeds": list(plan.seeds), "arms": list(plan.arms),
                               "variant": plan.variant, "model_options": plan.base["model"].get("options", {}),
                               "lr": {key: plan.base["train"].get(key) for key in ("lr_g", "lr_d")},
                               "protocol": {"fitness": f"fid_domain_{fmt(plan.budget.eval_samples)}",
                                            "final": f"fid_domain_{fmt(plan.budget.final_samples)}",
                                            "data_split_seed": DATA_SPLIT_SEED, "subset_limit": plan.subset_limit,
                                            "pbt": plan.pbt},
                               "timing": timing, "errors": errors}
    stem = "quality_per_compute_smoke" if plan.smoke else "quality_per_compute"
    previous = plan.out / f"{stem}.json"
    if args.from_experiment is not None and not plan.inception and previous.is_file():
        earlier = json.loads(previous.read_text())  # keep that run's Inception cross-check
        if earlier.get("experiment") == str(experiment) and earlier.get("inception"):
            summary["inception"] = earlier["inception"]
            timing.setdefault("inception_s", earlier["inception"]["seconds"])
            summary["re_aggregated_by"], summary["command"] = summary["command"], earlier["command"]
            summary["machine"] = {**earlier["machine"], "re_aggregated_on": info}
            summary["wall_s_training_run"] = earlier.get("wall_s")
    if plan.inception and "full" in plan.datasets:
        sets = {r["arm"]: Path(r["inception_samples"]) for r in records if r.get("inception_samples")}
        if sets:
            print(f"[qpc] Inception cross-check of {sorted(sets)} ...", flush=True)
            summary["inception"] = inception_cross_check(plan, data_by_name["full"], sets, max(plan.max_concurrent, 1))
            timing["inception_s"] = summary["inception"]["seconds"]
    summary["aggregate"] = aggregate(plan, records) if records else {}
    summary["wall_s"] = time.perf_counter() - started
    summary["machine"].setdefault("load_avg_end", list(os.getloadavg()))
    write_json(plan.out / f"{stem}.json", {**summary, "records": records})
    if records:
        summary["plots"] = [str(p) for p in plot(plan, records, plan.out)]
        (plan.out / f"{stem}.md").write_text(markdown(plan, summary))
        print(markdown(plan, summary), flush=True)
    print(f"[qpc] done in {summary['wall_s']:.0f} s; errors: {errors or 'none'}", flush=True)
    return summary


def train_all(plan: Plan, data_by_name: dict[str, Any], experiment: Path, started: float) -> list[str]:
    """The Tune experiments: arms (a)-(d0) as one grid, then one PBT Tuner per dataset and seed."""
    from evogan.config import RayConfig
    from evogan.distributed.cluster import ray_session

    errors: list[str] = []
    timing: dict[str, Any] = {"setup_s": time.perf_counter() - started, "pbt_s": {}}
    with ray_session(RayConfig(num_cpus=max(plan.max_concurrent, 1), dashboard=plan.dashboard)):
        import ray

        grid_started = time.perf_counter()
        errors += run_arm_grid(plan, data_by_name, experiment)
        timing["arms_grid_s"] = time.perf_counter() - grid_started
        print(f"[qpc] arms (a)-(d0) done ({timing['arms_grid_s']:.0f} s)", flush=True)
        if "pbt" in plan.arms:
            from evogan.distributed.fid_actor import create_fid_actor

            for dataset in plan.datasets:
                data = data_by_name[dataset]
                config = build_config(dataset_raw(plan, dataset))
                actor = create_fid_actor(config.metrics, data.key, ray.put(data.train),
                                         ray.put(data.train_labels) if data.train_labels is not None else None)
                for seed in plan.seeds:
                    record = run_pbt(plan, dataset, seed, data, experiment, actor)
                    errors += record.get("errors", [])
                    write_json(raw_path(plan, dataset, "pbt", seed), record)
                    print(f"[qpc] pbt {dataset} seed {seed}: final {record['final']}", flush=True)
                    timing["pbt_s"][f"{dataset}_s{seed}"] = record["wall_s"]
                ray.kill(actor)
    timing["train_s"] = time.perf_counter() - started
    write_json(experiment / "timing.json", timing)
    return errors


if __name__ != "__main__":  # imported (e.g. by a test): let Ray workers unpickle the trainable by value
    try:
        import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    except (ImportError, ValueError):
        pass

if __name__ == "__main__":
    try:
        result = main(sys.argv[1:])
    except ConfigError as err:  # bad flags or config: one line, exit 2, before any training
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if result.get("errors") else 0)
