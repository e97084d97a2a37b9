"""``python -m evogan.sweep export RESULTS_DIR OUT.pt``: the best trial's generator as a
"generator" checkpoint (the payload ``evogan.run`` writes as best.pt), so ``python -m evogan.fid``
and ``python -m evogan.run --seed-population`` accept it.

"Best" is the lowest reported quality metric of any iteration of any trial (Tune's
``ExperimentAnalysis.get_best_trial(scope="all")``), restored from the best checkpoint Tune
kept for that trial.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from evogan.io.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from evogan.io.inputs import require_new_file
from evogan.tune.runner import read_sweep_file
from evogan.tune.trainable import CHECKPOINT_FILE


def best_trial_checkpoint(experiment_dir: Path) -> tuple[dict[str, Any], str]:
    """(the best trial's saved ``tune_trial`` payload, its trial id)."""
    from ray.tune import ExperimentAnalysis

    info = read_sweep_file(experiment_dir)
    metric, mode = info["metric"], info["mode"]
    try:
        analysis = ExperimentAnalysis(str(experiment_dir), default_metric=metric, default_mode=mode)
    except Exception as err:  # Tune raises several types for a missing/partial experiment state
        raise CheckpointError(f"{experiment_dir}: cannot read Tune results "
                              f"({str(err).splitlines()[0][:160]})") from None
    trial = analysis.get_best_trial(metric, mode, scope="all")
    checkpoint = analysis.get_best_checkpoint(trial, metric, mode) if trial is not None else None
    if checkpoint is None:
        raise CheckpointError(f"{experiment_dir}: no trial reported a finite {metric} with a checkpoint")
    with checkpoint.as_directory() as directory:
        payload = load_checkpoint(Path(directory) / CHECKPOINT_FILE, kind="tune_trial")
    return payload, trial.trial_id


def generator_payload(trial_payload: dict[str, Any], trial_id: str) -> dict[str, Any]:
    """tune_trial checkpoint -> generator checkpoint (optimiser states dropped)."""
    member = {k: v for k, v in trial_payload["state"]["member"].items() if k != "optimizers"}
    return {"kind": "generator", "config": trial_payload["config"], "image_shape": trial_payload["image_shape"],
            "member": member, "generation": trial_payload["evaluation"], "step": trial_payload["state"]["step"],
            "fid": trial_payload["fid"], "metric": trial_payload["metric"], "trial_id": trial_id}


def export_best(experiment_dir: Path, out: Path) -> dict[str, Any]:
    """Write the best trial's generator to ``out``; returns a short description."""
    experiment_dir = Path(experiment_dir).expanduser().resolve()
    if not experiment_dir.is_dir():
        raise CheckpointError(f"{experiment_dir}: results directory not found")
    out = require_new_file(out, "export OUT")
    payload, trial_id = best_trial_checkpoint(experiment_dir)
    if not math.isfinite(payload["fid"]):
        raise CheckpointError(f"{experiment_dir}: the best checkpoint has no finite {payload['metric']}")
    save_checkpoint(generator_payload(payload, trial_id), out)
    return {"trial_id": trial_id, "metric": payload["metric"], "fid": payload["fid"],
            "variant": payload["config"]["model"]["variant"], "step": payload["state"]["step"], "out": str(out)}
