"""``python -m evogan.run``: parse -> validate -> check paths -> load data -> start/join Ray -> evolve -> report.

Exit codes (:mod:`evogan.cli`): 0 done, 2 bad input (config, data, paths, checkpoints: one line
on stderr, no traceback, nothing started), 130 interrupted, 1 a failure during the run
(everything already saved is kept).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from evogan.cli import Session, run_cli
from evogan.config import Config, ConfigError
from evogan.io.checkpoint import CheckpointError
from evogan.io.inputs import require_file, require_writable_dir
from evogan.io.run_dir import RunDir
from evogan.preflight import check_config_paths
from evogan.validation import load


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evogan.run",
        description="Evolve a population of GANs (GA-GAN) on Ray. "
                    "Overrides are dotted keys, e.g. evolution.generations=20 data.name=fashion_mnist.")
    parser.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR",
                        help="continue a run from its last complete checkpoint (RUN_DIR/checkpoints/latest.json, "
                             "or under output.storage; overrides apply on top)")
    parser.add_argument("--seed-population", type=Path, metavar="CHECKPOINT",
                        help="start every individual from this generator/population checkpoint or run directory "
                             "(a mixture checkpoint: from its highest-weight member)")
    parser.add_argument("overrides", nargs="*", help="dotted key=value overrides")
    return parser.parse_args(argv)


def resolve_config(args: argparse.Namespace) -> tuple[Config, RunDir | None]:
    """The config to run and, when resuming, the run directory to continue."""
    if args.resume is None:
        return load(args.config, args.overrides), None
    if args.config is not None:
        raise ConfigError("--config: cannot be combined with --resume (the run's own config is used)")
    run_dir = RunDir.open(args.resume)
    return load(run_dir.config, args.overrides), run_dir


def resume_point(config: Config, run_dir: RunDir) -> dict:
    """The last complete checkpoint manifest of ``run_dir`` (in ``output.storage`` when set)."""
    from evogan.io.population_checkpoint import LATEST, read_latest_manifest, run_storage

    storage = run_storage(config.output, run_dir.root)
    saved = read_latest_manifest(storage)
    if saved is None:
        raise CheckpointError(f"{storage.path(LATEST)}: no checkpoint to resume from")
    return saved


def check_seed_population(path: Path) -> None:
    """--seed-population names a checkpoint file or a run directory holding checkpoints/best.pt."""
    if path.is_dir():
        require_file(RunDir.open(path).best_checkpoint, "--seed-population")
    else:
        require_file(path, "--seed-population")


def _main(argv: list[str], session: Session) -> int:
    args = parse_args(argv)
    config, resume_dir = resolve_config(args)
    check_config_paths(config, run_dir=resume_dir is None)
    saved = None
    if resume_dir is not None:
        require_writable_dir(resume_dir.root, "--resume")
        saved = resume_point(config, resume_dir)
    if args.seed_population is not None:
        check_seed_population(args.seed_population)
    from evogan.driver import prepare, run_prepared

    prepared = prepare(config, resume_dir=resume_dir, saved=saved, seed_population=args.seed_population)
    session.started(resume_command=f"python -m evogan.run --resume {prepared.run_dir}")
    summary = run_prepared(prepared)
    print(f"done: {prepared.run_dir}  {summary.get('final_metrics', {})}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    sys.exit(main())
