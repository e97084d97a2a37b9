"""Run directory of ``python -m evogan.train``: the GA-GAN layout (evogan.io) for one individual.

metrics.jsonl (one line per evaluation), TensorBoard scalars and sample grids, samples/*.png,
plots/*.png, checkpoints/best.pt (a "generator" checkpoint: lowest FID so far) and
checkpoints/latest.pt (a "trainer" checkpoint to ``--resume`` from), all written atomically.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from torchvision.utils import make_grid, save_image

from evogan.config import Config, to_dict
from evogan.io.checkpoint import save_checkpoint
from evogan.io.metrics_log import MetricsLog
from evogan.seeding import derive_seed
from evogan.training.loop import IndividualTrainer, is_finite_record
from evogan.training.loop_config import TrainerConfig, section_dict

TRAINER_FILE = "trainer.yaml"
GRID_SIZE = 64
PLOTS = {"scores.png": ("real_score", "fake_score", "d_accuracy"), "losses.png": ("loss_g", "loss_d")}


class TrainerReporter:
    """``on_evaluation`` callback of :func:`evogan.training.loop.run_loop`."""

    def __init__(self, config: Config, trainer_cfg: TrainerConfig, run_dir: Path, trainer: IndividualTrainer,
                 metric: str, resume_after: int | None = None, best_fid: float = math.inf):
        self.config, self.trainer_cfg, self.run_dir, self.trainer = config, trainer_cfg, run_dir, trainer
        self.metric = metric
        self.log = MetricsLog(run_dir, tensorboard=False, resume_after=resume_after)
        self.writer = None
        if config.output.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir / "tensorboard"))
        self.best_fid = best_fid
        self.evaluation = -1 if resume_after is None else resume_after

    def __call__(self, record: dict[str, Any]) -> None:
        self.evaluation += 1
        last = record["step"] >= self.trainer_cfg.steps or not is_finite_record(record)
        self.log.write({"generation": self.evaluation, "metric": self.metric, **record})
        self._tensorboard(record)
        self._progress(record)
        if self.evaluation % self.config.output.sample_every == 0 or last:
            self._grid(record["step"])
        if math.isfinite(record["fid"]) and record["fid"] < self.best_fid:
            self.best_fid = record["fid"]
            save_checkpoint(self.trainer.generator_payload(record["fid"], self.metric, self.evaluation),
                            self.run_dir / "checkpoints" / "best.pt")
        if self.evaluation % self.config.output.checkpoint_every == 0 or last:
            save_checkpoint(self.latest_payload(), self.run_dir / "checkpoints" / "latest.pt")

    def latest_payload(self) -> dict[str, Any]:
        return {"kind": "trainer", "config": to_dict(self.config), "trainer": section_dict(self.trainer_cfg),
                "image_shape": list(self.trainer.image_shape), "evaluation": self.evaluation,
                "best_fid": self.best_fid, "state": self.trainer.state_dict()}

    def _tensorboard(self, record: dict[str, Any]) -> None:
        if self.writer is None:
            return
        for key, value in record.items():
            if key != "step" and isinstance(value, (int, float)) and math.isfinite(value):
                group = "balancer" if key.startswith("balancer_") else "train" if key.startswith("train_") else "eval"
                self.writer.add_scalar(f"{group}/{key}", value, record["step"])
        self.writer.flush()

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
        grid = make_grid(images.float() / 255.0, nrow=8)
        save_image(grid, self.run_dir / "samples" / f"step_{step:06d}.png")
        if self.writer is not None:
            self.writer.add_image("samples", grid, step)

    def close(self, rows: list[dict[str, Any]]) -> None:
        write_plots(rows, self.run_dir / "plots", self.metric)
        if self.writer is not None:
            self.writer.close()


def write_plots(rows: list[dict[str, Any]], plot_dir: Path, metric: str) -> None:
    """scores.png, losses.png and quality.png against the training step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plot_dir.mkdir(parents=True, exist_ok=True)
    steps = [r["step"] for r in rows]
    for filename, keys in {**PLOTS, "quality.png": ("fid",)}.items():
        fig, ax = plt.subplots(figsize=(6, 4))
        for key in keys:
            ax.plot(steps, [r.get(key) if r.get(key) is not None else math.nan for r in rows], marker="o",
                    label=metric if key == "fid" else key)
        ax.set_xlabel("step")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(plot_dir / filename, dpi=100)
        plt.close(fig)


def save_trainer_section(run_dir: Path, trainer_cfg: TrainerConfig) -> None:
    import yaml

    (run_dir / TRAINER_FILE).write_text(yaml.safe_dump({"trainer": section_dict(trainer_cfg)}, sort_keys=False))

