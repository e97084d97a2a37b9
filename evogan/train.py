"""``python -m evogan.train``: train ONE individual of any registered variant with gradients.

No GA and no Ray: an in-process quality scorer gives the FID every ``trainer.eval_every``
steps; ``trainer.balancer.enabled=true`` adds the DQN balancer of seed 004. The run directory
has the GA-GAN layout, and ``checkpoints/best.pt`` is a "generator" checkpoint that
``python -m evogan.fid`` and ``python -m evogan.run --seed-population`` accept.

Exit codes: 0 done, 2 bad input (one line on stderr, nothing started), 1 a failure during the run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import torch

from evogan.config import ConfigError
from evogan.data import DataError
from evogan.io.checkpoint import CheckpointError

BAD_INPUT = (ConfigError, DataError, CheckpointError)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evogan.train",
        description="Train one GAN of any registered variant with gradients (optionally DQN-balanced). "
                    "The YAML holds the standard run config plus a `trainer:` section; overrides are "
                    "dotted keys, e.g. trainer.steps=500 trainer.balancer.enabled=true model.variant=cft_mr_edge.")
    parser.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue RUN_DIR from checkpoints/latest.pt")
    parser.add_argument("overrides", nargs="*", help="dotted key=value overrides")
    return parser.parse_args(argv)


def resolve(args: argparse.Namespace):
    """(Config, TrainerConfig, saved latest.pt or None) from the arguments; raises on bad input."""
    from evogan.io.checkpoint import load_checkpoint
    from evogan.io.run_dir import CONFIG_FILE
    from evogan.config import read_yaml
    from evogan.training.loop_config import TrainerConfig, build_sections, validate_trainer, with_overrides
    from evogan.training.run_output import TRAINER_FILE

    saved = None
    if args.resume is None:
        raw = read_yaml(args.config)
    else:
        if args.config is not None:
            raise ConfigError("--config: cannot be combined with --resume (the run's own config is used)")
        if not (args.resume / CONFIG_FILE).is_file() or not (args.resume / TRAINER_FILE).is_file():
            raise CheckpointError(f"{args.resume}: not a trainer run directory (no {CONFIG_FILE} / {TRAINER_FILE})")
        raw = {**read_yaml(args.resume / CONFIG_FILE), **read_yaml(args.resume / TRAINER_FILE)}
        saved = load_checkpoint(args.resume / "checkpoints" / "latest.pt", kind="trainer")
    config, sections = build_sections(with_overrides(raw, args.overrides), {"trainer": TrainerConfig})
    validate_trainer(sections["trainer"], config)
    return config, sections["trainer"], saved


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Check every input and set up the run (nothing trained yet); raises on bad input."""
    from evogan.data import load_data
    from evogan.driver import check_extractor_weights
    from evogan.io.run_dir import create_run_dir
    from evogan.metrics import metric_name
    from evogan.training.loop import IndividualTrainer, resolve_device
    from evogan.training.run_output import TrainerReporter, save_trainer_section

    config, trainer_cfg, saved = resolve(args)
    data = load_data(config.data, seed=config.seed)
    check_extractor_weights(config)
    torch.set_num_threads(trainer_cfg.torch_threads or config.ray.torch_threads)
    device = resolve_device(config)
    trainer = IndividualTrainer(config, trainer_cfg, data.train, data.holdout, device)
    if saved is not None:
        if list(saved["image_shape"]) != list(data.image_shape):
            raise CheckpointError(f"{args.resume}: checkpoint images {saved['image_shape']} != data {data.image_shape}")
        trainer.load_state_dict(saved["state"])
    run_dir = args.resume if args.resume is not None else create_run_dir(config)
    save_trainer_section(run_dir, trainer_cfg)
    metric = metric_name("fid", config.metrics.fitness_extractor, config.fitness.eval_samples)
    reporter = TrainerReporter(config, trainer_cfg, run_dir, trainer, metric,
                               resume_after=saved["evaluation"] if saved else None,
                               best_fid=saved["best_fid"] if saved else math.inf)
    print(f"run directory: {run_dir}  ({config.model.variant}, {len(data.train)} training images, "
          f"{len(data.holdout)} held out, device {device})", flush=True)
    return {"config": config, "trainer_cfg": trainer_cfg, "data": data, "trainer": trainer,
            "reporter": reporter, "run_dir": run_dir, "device": device}


def run(prepared: dict[str, Any]) -> dict[str, Any]:
    """Train, evaluate, report; returns the summary written to summary.json."""
    from evogan.io.checkpoint import atomic_write_bytes, load_generator
    from evogan.io.metrics_log import read_jsonl
    from evogan.io.run_dir import SUMMARY_FILE
    from evogan.metrics.scorer import QualityScorer
    from evogan.models.sampling import sample_images
    from evogan.seeding import derive_seed
    from evogan.training.loop import run_loop
    from evogan.training.member import seeded_generator

    config, trainer_cfg, data, run_dir = prepared["config"], prepared["trainer_cfg"], prepared["data"], prepared["run_dir"]
    scorer = QualityScorer(config.metrics, data.key, data.train, data.train_labels, device=str(prepared["device"]))
    extractor = config.metrics.fitness_extractor
    scorer.real_stats(extractor)  # build/load the extractor now: evaluate() runs under inference_mode
    reporter = prepared["reporter"]
    run_loop(prepared["trainer"], trainer_cfg.steps, trainer_cfg.eval_every,
             lambda images: scorer.fid(images, extractor), reporter)
    rows = read_jsonl(run_dir / "metrics.jsonl")
    reporter.close(rows)
    final: dict[str, float] = {}
    if (run_dir / "checkpoints" / "best.pt").is_file():
        variant, modules, _ = load_generator(run_dir / "checkpoints" / "best.pt", device=str(prepared["device"]))
        metrics = config.metrics
        images = sample_images(variant, modules, metrics.report_samples,
                               seeded_generator(derive_seed(config.seed, "report")))
        final = scorer.report(images, metrics.report_extractor, metrics.kid, metrics.inception_score)
    summary = {"run_dir": str(run_dir), "evaluations": len(rows), "steps": rows[-1]["step"] if rows else 0,
               "best_fitness_fid": reporter.best_fid, "fitness_metric": reporter.metric,
               "last_evaluation": rows[-1] if rows else {}, "final_metrics": final}
    atomic_write_bytes(run_dir / SUMMARY_FILE, lambda f: f.write(json.dumps(summary, indent=2).encode()))
    return summary


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        prepared = prepare(args)
    except BAD_INPUT as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        summary = run(prepared)
    except KeyboardInterrupt:
        print(f"interrupted; resume with: python -m evogan.train --resume {prepared['run_dir']}", file=sys.stderr)
        return 130
    print(f"done: {prepared['run_dir']}  {summary['final_metrics']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
