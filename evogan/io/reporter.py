"""Per-generation outputs of a run: metrics line, progress line, sample grid, best and latest checkpoints."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

from evogan.config import Config, to_dict
from evogan.io.population_checkpoint import prune, write_manifest
from evogan.io.storage import Storage
from evogan.io.metrics_log import MetricsLog
from evogan.io.outputs import GRID_SIZE, write_sample_grid
from evogan.io.run_dir import RunDir
from evogan.seeding import derive_seed
from evogan.timing import timed


def fitness_metric_name(config: Config) -> str:
    from evogan.metrics import metric_name

    return metric_name("fid", config.metrics.fitness_extractor, config.fitness.eval_samples)


class RunReporter:
    """The engine's ``on_generation`` callback: sample grid, best generator, checkpoint, log line.

    Weights never reach the driver: ``best.pt`` is written by the actor that owns the best
    generator and each population actor writes its own checkpoint shard; the driver writes
    only the manifest (:mod:`evogan.io.population_checkpoint`). The metrics line is written
    before the manifest, so a crash in between only repeats that generation on resume.
    """

    def __init__(self, config: Config, run_dir: RunDir, image_shape: tuple[int, ...], backend: Any,
                 storage: Storage, resume_after: int | None = None, best_fid: float = math.inf,
                 best_uid: int | None = None):
        self.config = config
        self.run_dir = run_dir
        self.image_shape = list(image_shape)
        self.backend = backend
        self.storage = storage
        self.log = MetricsLog(run_dir, config.output.tensorboard, resume_after)
        self.best_fid, self.best_uid = best_fid, best_uid
        self.quality_key = fitness_metric_name(config)
        self._received = 0

    def __call__(self, summary: dict[str, Any], engine: Any) -> None:
        generation, population, out = summary["generation"], summary["population"], self.config.output
        last = generation == self.config.evolution.generations - 1
        timings = summary["timings"]
        with timed(timings, "outputs"):
            best = next(r for r in summary["individuals"]
                        if r["population"] == "g" and r["uid"] == population["best_uid"])
            if generation % out.sample_every == 0 or last:
                self._grid(generation, best)
            if best["valid"] and best["fid"] < self.best_fid:  # remembered once written (an actor may die first)
                self.backend.save_best(self.storage, best["slot"], best["uid"], self._meta(generation, best["fid"]))
                self.best_fid, self.best_uid = best["fid"], best["uid"]
            summary["actors"] = self.backend.where()
        checkpoint = generation % out.checkpoint_every == 0 or last
        if checkpoint:
            with timed(timings, "checkpoint"):
                entries = self.backend.save_shards(self.storage, generation)
        summary["seconds"] += timings.get("outputs", 0.0) + timings.get("checkpoint", 0.0)
        busiest = max((sum(a.get("busy", {}).values()) for a in summary["actors"]), default=0.0)
        timings["actor_busy_max"] = busiest
        timings["engine_overhead"] = max(0.0, summary["seconds"] - busiest)
        received = getattr(self.backend, "received_bytes", 0)
        summary["driver_bytes"], self._received = received - self._received, received
        self.log.write({"metric": self.quality_key, **summary})
        self._progress(summary)
        if out.report_every and (generation + 1) % out.report_every == 0 and not last:  # live run report
            from evogan.report import refresh_report  # (the last one is written by the driver at the end)

            refresh_report(self.run_dir, live=True)
        if checkpoint:
            write_manifest(self.storage, {**engine.light_state(), "shards": entries,
                                          "best_fid": _finite_or_none(self.best_fid),
                                          "best_uid": self.best_uid, "num_shards": len(entries), **self._common()})
            prune(self.storage, out.keep_checkpoints, generation)
            self.mirror()

    def mirror(self) -> None:
        """Copy the run directory's logs, grids and plots to remote storage (no-op when local)."""
        if Path(self.storage.root) != Path(self.run_dir.root).absolute():
            self.storage.upload(self.run_dir.root, "")

    def _common(self) -> dict[str, Any]:
        return {"config": to_dict(self.config), "image_shape": self.image_shape}

    def _meta(self, generation: int, fid: float) -> dict[str, Any]:
        return {"generation": generation, "fid": fid, "metric": self.quality_key, **self._common()}

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
        if summary.get("recovered"):
            line += f"  (recovered actor(s) {summary['recovered']})"
        print(line, file=sys.stdout, flush=True)

    def _grid(self, generation: int, best: dict[str, Any]) -> None:
        seed = derive_seed(self.config.seed, "grid")  # same latents every generation
        images = self.backend.samples(best["slot"], best["uid"], GRID_SIZE, seed)
        write_sample_grid(images, self.run_dir.sample_grid(generation), self.log, generation)

    def close(self) -> None:
        self.log.close()


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
