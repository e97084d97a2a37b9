"""Run directory of ``python -m evogan.train``: the GA-GAN layout (:class:`evogan.io.run_dir.RunDir`)
for one individual, written with the shared writers of :mod:`evogan.io.outputs`.

metrics.jsonl (one line per evaluation), TensorBoard scalars (the tags evogan.run uses, against
the step) and sample grids, samples/step_NNNNNN.png, plots/*.png, checkpoints/best.pt (a
"generator" checkpoint: lowest FID so far) and checkpoints/latest.pt (a "trainer" checkpoint to
``--resume`` from), all written atomically.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from evogan.config import Config, to_dict
from evogan.io.checkpoint import save_checkpoint
from evogan.io.metrics_log import MetricsLog
from evogan.io.outputs import GRID_SIZE, write_plots, write_sample_grid
from evogan.io.run_dir import RunDir
from evogan.seeding import derive_seed
from evogan.training.loop import IndividualTrainer, is_finite_record
from evogan.training.loop_config import TrainerConfig, section_dict


class TrainerReporter:
    """``on_evaluation`` callback of :func:`evogan.training.loop.run_loop`."""

    def __init__(self, config: Config, trainer_cfg: TrainerConfig, run_dir: RunDir, trainer: IndividualTrainer,
                 metric: str, resume_after: int | None = None, best_fid: float = math.inf):
        self.config, self.trainer_cfg, self.run_dir, self.trainer = config, trainer_cfg, run_dir, trainer
        self.metric = metric
        self.log = MetricsLog(run_dir, config.output.tensorboard, resume_after=resume_after, x="step")
        self.best_fid = best_fid
        self.evaluation = -1 if resume_after is None else resume_after

    def __call__(self, record: dict[str, Any]) -> None:
        self.evaluation += 1
        last = record["step"] >= self.trainer_cfg.steps or not is_finite_record(record)
        self.log.write({"generation": self.evaluation, "metric": self.metric, **record})
        self._progress(record)
        if self.evaluation % self.config.output.sample_every == 0 or last:
            self._grid(record["step"])
        if math.isfinite(record["fid"]) and record["fid"] < self.best_fid:
            self.best_fid = record["fid"]
            save_checkpoint(self.trainer.generator_payload(record["fid"], self.metric, self.evaluation),
                            self.run_dir.best_checkpoint)
        if self.evaluation % self.config.output.checkpoint_every == 0 or last:
            save_checkpoint(self.latest_payload(), self.run_dir.latest_checkpoint)

    def latest_payload(self) -> dict[str, Any]:
        return {"kind": "trainer", "config": to_dict(self.config), "trainer": section_dict(self.trainer_cfg),
                "image_shape": list(self.trainer.image_shape), "evaluation": self.evaluation,
                "best_fid": self.best_fid, "state": self.trainer.state_dict()}

    def _progress(self, r: dict[str, Any]) -> None:
        if not self.config.output.progress:
            return
        line = (f"step {r['step']:>6}/{self.trainer_cfg.steps}  {self.metric} {r['fid']:8.2f}  "
                f"D acc {r['d_accuracy']:.2f}  real {r['real_score']:.2f} fake {r['fake_score']:.2f}  "
                f"loss_g {r['loss_g']:.2f} loss_d {r['loss_d']:.2f}  lr_g {r['lr_g']:.2e} lr_d {r['lr_d']:.2e}")
        if "balancer_epsilon" in r:
            line += f"  DQN eps {r['balancer_epsilon']:.2f} reward {r.get('balancer_reward', math.nan):+.3f}"
        line += f"  {r['seconds']:.1f}s"
        if not is_finite_record(r):
            line += "  (NaN/inf: stopping)"
        print(line, file=sys.stdout, flush=True)

    def _grid(self, step: int) -> None:
        images = self.trainer.samples(GRID_SIZE, derive_seed(self.config.seed, "grid"))  # same latents each time
        write_sample_grid(images, self.run_dir.step_sample_grid(step), self.log, step)

    def close(self, rows: list[dict[str, Any]]) -> None:
        write_plots(self.run_dir, rows, self.metric, x="step")
        self.log.close()


def save_trainer_section(run_dir: RunDir, trainer_cfg: TrainerConfig) -> None:
    import yaml

    run_dir.trainer_config.write_text(yaml.safe_dump({"trainer": section_dict(trainer_cfg)}, sort_keys=False))
