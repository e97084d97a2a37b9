"""``python -m evogan.studies RESULTS_DIR [RESULTS_DIR ...]``: score and report a finished study.

    python -m evogan.sweep --config configs/studies/seed003_cft.yaml          # run the study
    python -m evogan.studies runs/studies/seed003_cft                         # its table, plots, verdicts
    python -m evogan.studies runs/studies/seed003_cft --inception 1000       # + Inception FID cross-check
    python -m evogan.studies runs/studies/seed003_cft --out benchmarks/results/studies/seed003_cft
    python -m evogan.studies runs/studies/variants_fmnist1k runs/studies/variants_fmnist1k_vaegan   # pieces
                                                          # of one study, run with sweep.only_arms
    python -m evogan.studies runs/studies/grid_s12 --seeds-from benchmarks/results/studies/grid_s0/results.json
                                                          # seeds 1-2 run later; seed 0 from its report

Writes ``report.md`` (the table, the verdicts, the sweep's command and machine), ``results.json``
and PNG plots into ``--out`` (default ``RESULTS_DIR/study``) and prints the Markdown. Exit codes
as every evogan command: 0 done, 2 bad input (one line on stderr), 1 a failure.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from evogan.cli import Session, run_cli


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evogan.studies",
                                     description="Score every trial's final generator of a finished study "
                                                 "(python -m evogan.sweep --config configs/studies/*.yaml), "
                                                 "aggregate over seeds, judge the study's claims, plot.")
    parser.add_argument("results_dir", type=Path, nargs="+",
                        help="the experiment directory (<sweep.storage_path>/<sweep.name>); several: the pieces "
                             "of one study run with sweep.only_arms (same config and budget, different arms)")
    parser.add_argument("--out", type=Path,
                        help="where report.md, results.json and the PNGs go (default RESULTS_DIR/study)")
    parser.add_argument("--samples", type=int, help="images per final generator for fid_domain / is_domain "
                                                    "(default study.samples, 4096)")
    parser.add_argument("--real-samples", type=int,
                        help="real images for the domain statistics (default study.real_samples)")
    parser.add_argument("--inception", type=int, help="fid_inception_<n> of each row's first seed (default "
                                                      "study.inception_samples; 0 skips it; the slow part on a CPU)")
    parser.add_argument("--cache-dir", help="metrics cache (default the study's metrics.cache_dir)")
    parser.add_argument("--no-samples-plot", action="store_true", help="skip samples.png")
    parser.add_argument("--seeds-from", type=Path, action="append", default=[], metavar="RESULTS_JSON",
                        help="more seeds of this study from an earlier report of it (its results.json), when "
                             "that sweep's directory is gone; refused unless it ran the same protocol and budget "
                             "(repeatable)")
    return parser.parse_args(argv)


def _main(argv: list[str], session: Session) -> int:
    import dataclasses

    from evogan.config import ConfigError
    from evogan.io.outputs import write_json
    from evogan.studies import analysis, report
    from evogan.studies.machine import describe
    from evogan.studies.recorded import seedless_protocol

    args = parse_args(argv)
    study = analysis.read_study(*args.results_dir)
    spec = study.study
    samples = args.samples if args.samples is not None else spec.samples
    inception = args.inception if args.inception is not None else spec.inception_samples
    real = args.real_samples if args.real_samples is not None else spec.real_samples
    if samples < 10:
        raise ConfigError(f"--samples: must be >= 10, got {samples}")
    if inception < 0 or real < 2:
        raise ConfigError("--inception must be >= 0 and --real-samples >= 2")
    if inception:
        from evogan.metrics.inception import inception_weights_path

        inception_weights_path(study.config.metrics.inception_weights, args.cache_dir or study.config.metrics.cache_dir)
    study.study = dataclasses.replace(spec, samples=samples, inception_samples=inception, real_samples=real)
    analysis.require_scorable(study)
    names = analysis.score_names(samples, inception)
    for earlier in args.seeds_from:
        analysis.add_recorded(study, earlier, names)
    out = (args.out or study.directory / "study").expanduser().resolve()
    session.started()
    name = " + ".join(d.name for d in args.results_dir)
    recorded = f" (+ {len(study.recorded)} from earlier reports)" if study.recorded else ""
    print(f"study {name}: {len(study.trials)} trials{recorded}, {len(study.groups())} rows; "
          f"scoring final generators ({samples} images each) -> {out}", flush=True)
    analysis.score_trials(study, samples, inception, args.cache_dir)
    rows = analysis.aggregate(study)
    entries = analysis.verdicts(study, rows, names)
    plots = [report.plot_curves(study, out / "curves.png"), report.plot_final(rows, names, out / "final.png")]
    if spec.heatmap:
        plots.append(report.plot_heatmap(rows, tuple(spec.heatmap), spec.heatmap_metric,
                                         names.get(spec.heatmap_metric, spec.heatmap_metric), out / "heatmap.png"))
    if spec.stability_vs:
        plots.append(report.plot_stability(rows, spec.stability_vs, names, study.metric, out / "stability.png"))
    if not args.no_samples_plot:
        plots.append(report.plot_samples(study, out / "samples.png"))
    command = "python -m evogan.studies " + shlex.join(argv)
    text = report.markdown(study, rows, names, entries, plots, analysis.check_complete(study), command, describe(), out)
    (out / "report.md").write_text(text + "\n", encoding="utf-8")
    write_json(out / "results.json", {
        "experiment": str(study.directory), "pieces": [p["directory"] for p in study.info.get("pieces", [])],
        "seeds_from": study.info.get("seeds_from", []), "metric": study.metric, "names": names,
        "real_samples": real, "protocol": seedless_protocol(study.info), "command": study.info.get("command"),
        "analysis_command": command, "machine": study.info.get("machine"), "rows": [
            {k: v for k, v in row.items()} for row in rows], "verdicts": entries,
        "trials": [{"path": str(t.path), "group": t.group, "seed": t.seed, "steps": t.steps,
                    "figures": analysis.trial_figures(study, t)} for t in study.trials]
        + [{"path": None, "from": r.source, "group": r.group, "seed": r.seed, "steps": r.steps,
            "figures": r.figures} for r in study.recorded]})
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
