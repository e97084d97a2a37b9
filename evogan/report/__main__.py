"""``python -m evogan.report RUN_DIR [RUN_DIR ...] [--out DIR]``: write the static run report.

Exit codes (:mod:`evogan.cli`): 0 written, 2 a RUN_DIR that is not a run directory (one line
naming it).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from evogan.cli import Session, run_cli
from evogan.io.inputs import require_writable_dir
from evogan.io.run_dir import RunDir


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evogan.report",
        description="Write a self-contained HTML report (no server, no network) of one or more run "
                    "directories: sample grids, quality curves, Pareto fronts, hyperparameters, operator "
                    "success, time per generation, the best generator's genealogy, the config. "
                    "Several runs overlay their curves.")
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR",
                        help="a run directory (evogan.run or evogan.train)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write DIR/index.html (default: the first RUN_DIR/report/)")
    return parser.parse_args(argv)


def _main(argv: list[str], session: Session) -> int:
    args = parse_args(argv)
    run_dirs = [RunDir.open(path) for path in args.run_dirs]
    out = args.out if args.out is not None else run_dirs[0].report_dir
    require_writable_dir(out, "--out" if args.out is not None else "")
    session.started()
    from evogan.report import write_report

    print(write_report(run_dirs, out))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(_main, argv, log_level=logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
