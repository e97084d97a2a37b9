"""``python -m evogan.train``: train ONE individual of any registered variant with gradients.

No GA and no Ray: an in-process quality scorer gives the FID every ``trainer.eval_every``
steps; ``trainer.balancer.enabled=true`` adds the DQN balancer of seed 004. The run directory
has the GA-GAN layout, and ``checkpoints/best.pt`` is a "generator" checkpoint that
``python -m evogan.fid`` and ``python -m evogan.run --seed-population`` accept.

Exit codes (:mod:`evogan.cli`): 0 done, 2 bad input (one line on stderr, nothing started),
130 interrupted, 1 a failure during the run.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import torch

from evogan.cli import Session, run_cli
from evogan.config import ConfigError
from evogan.io.checkpoint import CheckpointError
from evogan.io.run_dir import RunDir


def parse_args(argv: list[str]) -> argparse.Namespace:
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
    """(Config, TrainerConfig, run directory to resume or None, saved latest.pt or None); raises on bad input."""
    from evogan.io.checkpoint import load_checkpoint
    from evogan.config import read_yaml
    from evogan.training.loop_config import TrainerConfig, build_sections, validate_trainer, with_overrides

    run_dir, saved = None, None
    if args.resume is None:
        raw = read_yaml(args.config)
    else:
        if args.config is not None:
            raise ConfigError("--config: cannot be combined with --resume (the run's own config is used)")
        run_dir = RunDir.open(args.resume, trainer=True)
        raw = {**read_yaml(run_dir.config), **read_yaml(run_dir.trainer_config)}
        saved = load_checkpoint(run_dir.latest_checkpoint, kind="trainer")
    config, sections = build_sections(with_overrides(raw, args.overrides), {"trainer": TrainerConfig})
    validate_trainer(sections["trainer"], config)
    return config, sections["trainer"], run_dir, saved


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Check every input and set up the run (nothing trained yet); raises on bad input."""
    from evogan.data import load_data
    from evogan.io.inputs import require_writable_dir
    from evogan.metrics import metric_name
    from evogan.preflight import check_config_paths
    from evogan.training.loop import IndividualTrainer, resolve_device
    from evogan.training.run_output import TrainerReporter, save_trainer_section

    config, trainer_cfg, resume_dir, saved = resolve(args)
    check_config_paths(config, run_dir=resume_dir is None)
    if resume_dir is not None:
        require_writable_dir(resume_dir.root, "--resume")
    data = load_data(config.data, seed=config.seed)
    torch.set_num_threads(trainer_cfg.torch_threads or config.ray.torch_threads)
    device = resolve_device(config)
    trainer = IndividualTrainer(config, trainer_cfg, data.train, data.holdout, device)
    if saved is not None:
        if list(saved["image_shape"]) != list(data.image_shape):
            raise CheckpointError(f"{resume_dir}: checkpoint images {saved['image_shape']} != data {data.image_shape}")
        trainer.load_state_dict(saved["state"])
    run_dir = resume_dir if resume_dir is not None else RunDir.create(config)
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
    from evogan.io.metrics_log import read_jsonl
    from evogan.io.outputs import final_report, finish_run, write_summary
    from evogan.metrics.scorer import QualityScorer
    from evogan.training.loop import run_loop

    config, trainer_cfg, data, run_dir = (prepared["config"], prepared["trainer_cfg"], prepared["data"],
                                          prepared["run_dir"])
    scorer = QualityScorer(config.metrics, data.key, data.train, data.train_labels, device=str(prepared["device"]))
    extractor = config.metrics.fitness_extractor
    scorer.real_stats(extractor)  # build/load the extractor now: evaluate() runs under inference_mode
    reporter = prepared["reporter"]
    run_loop(prepared["trainer"], trainer_cfg.steps, trainer_cfg.eval_every,
             lambda images: scorer.fid(images, extractor), reporter)
    rows = read_jsonl(run_dir.metrics)
    reporter.close(rows)
    final = final_report(config, run_dir, scorer.report, device=str(prepared["device"]))
    summary = write_summary(run_dir.summary, {
        "run_dir": str(run_dir), "evaluations": len(rows), "steps": rows[-1]["step"] if rows else 0,
        "best_fitness_fid": reporter.best_fid, "fitness_metric": reporter.metric,
        "last_evaluation": rows[-1] if rows else {}, "final_metrics": final})
    finish_run(config, run_dir, summary, command="train")  # TensorBoard HParams and report/index.html
    return summary


def _main(argv: list[str], session: Session) -> int:
    prepared = prepare(parse_args(argv))
    session.started(resume_command=f"python -m evogan.train --resume {prepared['run_dir']}")
    summary = run(prepared)
    print(f"done: {prepared['run_dir']}  {summary['final_metrics']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
