"""``python -m evogan.run``: parse -> validate -> load data -> start/join Ray -> evolve -> report.

Exit codes: 0 done, 2 bad input (config, data, paths, checkpoints: one line on stderr, no
traceback, nothing started), 1 a failure during the run (everything already saved is kept).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from evogan.config import Config, ConfigError
from evogan.validation import load
from evogan.data import DataError
from evogan.io.checkpoint import CheckpointError

log = logging.getLogger("evogan")

BAD_INPUT = (ConfigError, DataError, CheckpointError)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evogan.run",
        description="Evolve a population of GANs (GA-GAN) on Ray. "
                    "Overrides are dotted keys, e.g. evolution.generations=20 data.name=fashion_mnist.")
    parser.add_argument("--config", type=Path, help="YAML config (default: built-in defaults)")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR",
                        help="continue a run from RUN_DIR/checkpoints/latest.pt (overrides apply on top)")
    parser.add_argument("--seed-population", type=Path, metavar="CHECKPOINT",
                        help="start every individual from this generator/population checkpoint")
    parser.add_argument("overrides", nargs="*", help="dotted key=value overrides")
    return parser.parse_args(argv)


def resolve_config(args: argparse.Namespace) -> tuple[Config, dict | None]:
    """The config to run and, when resuming, the checkpoint to continue from."""
    if args.resume is None:
        return load(args.config, args.overrides), None
    from evogan.io.checkpoint import load_checkpoint
    from evogan.io.run_dir import CONFIG_FILE

    run_dir = args.resume
    if not (run_dir / CONFIG_FILE).is_file():
        raise CheckpointError(f"{run_dir}: not a run directory (no {CONFIG_FILE})")
    if args.config is not None:
        raise ConfigError("--config: cannot be combined with --resume (the run's own config is used)")
    config = load(run_dir / CONFIG_FILE, args.overrides)
    saved = load_checkpoint(run_dir / "checkpoints" / "latest.pt", kind="population")
    return config, saved


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    args = parse_args(argv)
    try:
        config, saved = resolve_config(args)
        from evogan.driver import prepare

        prepared = prepare(config, resume_dir=args.resume, saved=saved, seed_population=args.seed_population)
    except BAD_INPUT as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from evogan.driver import run_prepared

    try:
        summary = run_prepared(prepared)
    except KeyboardInterrupt:
        print(f"interrupted; resume with: python -m evogan.run --resume {prepared.run_dir}", file=sys.stderr)
        return 130
    print(f"done: {prepared.run_dir}  {summary.get('final_metrics', {})}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    sys.exit(main())
