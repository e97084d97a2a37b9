"""Per-generation outputs of a run: metrics line, progress line, sample grid, best and latest checkpoints."""

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

GRID_SIZE = 64


def fitness_metric_name(config: Config) -> str:
    from evogan.metrics import metric_name

    return metric_name("fid", config.metrics.fitness_extractor, config.fitness.eval_samples)


class RunReporter:
    """The engine's ``on_generation`` callback; knows the run directory, not the training."""

    def __init__(self, config: Config, run_dir: Path, image_shape: tuple[int, ...], backend: Any,
                 resume_after: int | None = None, best_fid: float = math.inf):
        self.config = config
        self.run_dir = run_dir
        self.image_shape = list(image_shape)
        self.backend = backend
        self.log = MetricsLog(run_dir, config.output.tensorboard, resume_after)
        self.best_fid = best_fid
        self.best_uid: int | None = None
        self.quality_key = fitness_metric_name(config)

    def __call__(self, summary: dict[str, Any], engine: Any) -> None:
        generation, population = summary["generation"], summary["population"]
        last = generation == self.config.evolution.generations - 1
        self.log.write({"metric": self.quality_key, **summary})
        self._progress(summary)
        best = next(r for r in summary["individuals"] if r["population"] == "g" and r["uid"] == population["best_uid"])
        if generation % self.config.output.sample_every == 0 or last:
            self._grid(generation, best)
        if best["valid"] and best["fid"] < self.best_fid:
            self.best_fid, self.best_uid = best["fid"], best["uid"]
            self._save_best(generation, best)
        if generation % self.config.output.checkpoint_every == 0 or last:
            payload = engine.checkpoint_payload()
            payload.update(self._common(), best_fid=self.best_fid, best_uid=self.best_uid)
            save_checkpoint(payload, self.run_dir / "checkpoints" / "latest.pt")

    def _common(self) -> dict[str, Any]:
        return {"config": to_dict(self.config), "image_shape": self.image_shape}

    def _progress(self, summary: dict[str, Any]) -> None:
        if not self.config.output.progress:
            return
        p = summary["population"]
        total = self.config.evolution.generations
        line = (f"gen {summary['generation'] + 1:>3}/{total}  {self.quality_key} best {p['best_fid']:8.2f} "
                f"mean {p['mean_fid']:8.2f}  fool {p['best_fool_rate']:.2f}  D acc {p['best_d_accuracy']:.2f}  "
                f"real {p['best_real_score']:.2f} fake {p['best_fake_score']:.2f}  loss_g {p['best_loss_g']:.2f} "
                f"loss_d {p['best_loss_d']:.2f}  {summary['seconds']:.1f}s")
        if p["invalid"]:
            line += f"  ({p['invalid']} invalid: NaN/inf)"
        print(line, file=sys.stdout, flush=True)

    def _grid(self, generation: int, best: dict[str, Any]) -> None:
        seed = derive_seed(self.config.seed, "grid")  # same latents every generation
        images = self.backend.samples(best["slot"], best["uid"], GRID_SIZE, seed)
        grid = make_grid(images.float() / 255.0, nrow=8)
        save_image(grid, self.run_dir / "samples" / f"gen_{generation:04d}.png")
        self.log.image("samples/best", grid, generation)

    def _save_best(self, generation: int, best: dict[str, Any]) -> None:
        member = self.backend.state("g", [best["slot"]])["g"][best["slot"]]
        member = {k: v for k, v in member.items() if k != "optimizers"}
        payload = {"kind": "generator", "generation": generation, "fid": best["fid"],
                   "metric": self.quality_key, "member": member, **self._common()}
        save_checkpoint(payload, self.run_dir / "checkpoints" / "best.pt")

    def close(self) -> None:
        self.log.close()
