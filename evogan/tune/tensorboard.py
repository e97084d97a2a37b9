"""TensorBoard for Tune trials under evogan's own tag names (:mod:`evogan.io.outputs`).

Tune's ``TBXLoggerCallback`` would write ``ray/tune/<metric>``; this callback writes each
reported record's :func:`evogan.io.outputs.evaluation_scalars` (``quality/best_fid``,
``scores/real_score``, ``losses/loss_g``, ``hparams/lr_g`` ...) against the trial's gradient step
into the trial directory, and HParams when the trial ends (the main config keys of the trial's
resolved config and ``final/best_fid``), exactly as ``evogan.run`` and ``evogan.train`` do.
"""

from __future__ import annotations

import math
from typing import Any

from ray.tune.logger import TBXLoggerCallback
from ray.tune.result import AUTO_RESULT_KEYS

from evogan.io.outputs import evaluation_scalars, hparams_of, write_hparams

TUNE_KEYS = frozenset(AUTO_RESULT_KEYS) | {"done", "trial_id", "experiment_tag", "should_checkpoint", "diverged"}
"""Keys Tune (or the trainable, for its schedulers) adds to a result: not evogan scalars."""


class TensorBoardCallback(TBXLoggerCallback):
    """One torch ``SummaryWriter`` per trial, in the trial's directory.

    A subclass of Tune's TBX callback only so that Tune does not add its own (it adds one
    unless a callback is a ``TBXLoggerCallback``); nothing of it is used, nor tensorboardX.
    """

    # No super().__init__(): the base class's constructor needs tensorboardX, which is not used.
    def __init__(self, base: dict[str, Any], keys: list[str], metric: str,
                 arms: dict[str, dict[str, Any]] | None = None):
        self.base, self.keys, self.metric, self.arms = base, keys, metric, arms
        self._writers: dict[Any, Any] = {}
        self._best: dict[Any, float] = {}

    def log_trial_start(self, trial: Any) -> None:
        from torch.utils.tensorboard import SummaryWriter

        if trial in self._writers:
            self._writers[trial].close()
        trial.init_local_path()
        self._writers[trial] = SummaryWriter(trial.local_path, flush_secs=30)
        self._best.setdefault(trial, math.inf)

    def log_trial_result(self, iteration: int, trial: Any, result: dict[str, Any]) -> None:
        if trial not in self._writers:
            self.log_trial_start(trial)
        record = {k: v for k, v in result.items() if k not in TUNE_KEYS and k != self.metric}
        step = int(record.get("step", iteration))
        writer = self._writers[trial]
        for tag, value in evaluation_scalars(record).items():
            writer.add_scalar(tag, value, step)
        writer.flush()
        fid = record.get("fid")
        if isinstance(fid, (int, float)) and math.isfinite(fid):
            self._best[trial] = min(self._best[trial], float(fid))

    def log_trial_end(self, trial: Any, failed: bool = False) -> None:
        writer = self._writers.pop(trial, None)
        if writer is None:
            return
        writer.close()
        best = self._best.pop(trial, math.inf)
        if math.isfinite(best):
            from evogan.tune.trainable import trial_configs

            config, _ = trial_configs(self.base, self.keys, trial.config, self.arms)
            hparams = hparams_of(config, "sweep")
            if "arm" in trial.config:
                hparams["arm"] = str(trial.config["arm"])
            write_hparams(trial.local_path, hparams, {"final/best_fid": best})
