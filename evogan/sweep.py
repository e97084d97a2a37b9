"""``python -m evogan.sweep``: Ray Tune sweeps over a variant's search space (ASHA or PBT).

    python -m evogan.sweep --config configs/sweeps/lr_latent_sensitivity.yaml [key=value ...]
    python -m evogan.sweep --config configs/sweeps/dqn_balancer.yaml sweep.smoke=true   # minutes on a CPU
    python -m evogan.sweep --resume runs/sweeps/lr_latent_sensitivity                 # continue a stopped sweep
    python -m evogan.sweep export runs/sweeps/lr_latent_sensitivity best.pt          # best trial's generator

Exit codes (:mod:`evogan.cli`): 0 done, 2 bad input (one line on stderr, before Ray starts),
130 interrupted, 1 a failure during the run (every trial errored). A finished sweep writes
``summary.json`` (best trial, its metric and config, trial counts) into its results directory.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path

from evogan.cli import Session, run_cli
from evogan.config import ConfigError


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evogan.sweep",
        description="Ray Tune sweep of gradient-trained GAN variants (and the DQN balancer). The YAML holds "
                    "a run config, an optional `trainer:` section and a `sweep:` section; overrides are dotted "
                    "keys, e.g. sweep.smoke=true sweep.scheduler=pbt. "
                    "`python -m evogan.sweep export RESULTS_DIR OUT.pt` writes the best trial's generator.")
    parser.add_argument("--config", type=Path, help="sweep YAML (configs/sweeps/*.yaml)")
    parser.add_argument("--resume", type=Path, metavar="RESULTS_DIR", help="continue a stopped sweep")
    parser.add_argument("overrides", nargs="*", help="dotted key=value overrides")
    return parser.parse_args(argv)


def export_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m evogan.sweep export",
                                     description="Write the best trial's generator as a generator checkpoint.")
    parser.add_argument("results_dir", type=Path, help="<sweep.storage_path>/<sweep.name>")
    parser.add_argument("out", type=Path, help="output checkpoint, e.g. best.pt")
    args = parser.parse_args(argv)
    from evogan.tune.export import export_best

    info = export_best(args.results_dir, args.out)
    print(f"exported trial {info['trial_id']} ({info['variant']}, step {info['step']}, "
          f"{info['metric']} {info['fid']:.3f}) to {info['out']}")
    return 0


def report(results, prepared) -> int:
    """Print the best trial and the export command, write summary.json; 1 when every trial failed."""
    from evogan.io.outputs import write_summary
    from evogan.io.run_dir import SUMMARY_FILE

    errors = len(results.errors)
    if errors == len(results):
        print(f"error: all {errors} trials failed; see {prepared.experiment_dir}", file=sys.stderr)
        return 1
    best = results.get_best_result(prepared.metric, "min", scope="all")
    value = best.metrics_dataframe[prepared.metric].min() if best.metrics_dataframe is not None else math.nan
    write_summary(prepared.experiment_dir / SUMMARY_FILE, {
        "experiment_dir": str(prepared.experiment_dir), "trials": len(results), "failed_trials": errors,
        "fitness_metric": prepared.metric, "best_fitness_fid": float(value), "best_trial": str(best.path),
        "best_config": best.config})
    print(f"best trial: {best.path}\n  {prepared.metric} {value:.3f}  config {best.config}")
    if errors:
        print(f"  ({errors} of {len(results)} trials failed)")
    print(f"results: {prepared.experiment_dir}  (tensorboard --logdir {prepared.experiment_dir})\n"
          f"export:  python -m evogan.sweep export {prepared.experiment_dir} best.pt")
    if prepared.arms or prepared.study:
        print(f"study:   python -m evogan.studies {prepared.experiment_dir}")
    return 0


def _main(argv: list[str], session: Session) -> int:
    if argv[:1] == ["export"]:
        return export_main(argv[1:])
    args = parse_args(argv)
    from evogan.tune.runner import prepare_sweep, run_sweep

    if args.resume is not None and args.config is not None:
        raise ConfigError("--config: cannot be combined with --resume (the sweep's own inputs are used)")
    command = "python -m evogan.sweep " + shlex.join([*(["--config", str(args.config)] if args.config else []),
                                                      *(["--resume", str(args.resume)] if args.resume else []),
                                                      *args.overrides])
    prepared = prepare_sweep(args.config, args.overrides, args.resume, command=command)
    print(f"sweep: {prepared.total_trials} trials x {prepared.trainer_cfg.evaluations} iterations "
          f"({prepared.trainer_cfg.eval_every} steps each), scheduler {prepared.sweep.scheduler}, "
          f"metric {prepared.metric} -> {prepared.experiment_dir}", flush=True)
    session.started(resume_command=f"python -m evogan.sweep --resume {prepared.experiment_dir}")
    return report(run_sweep(prepared), prepared)


def main(argv: list[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
