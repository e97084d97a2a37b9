"""One writer per run output, shared by ``evogan.run``, ``evogan.train`` and ``evogan.sweep``:
sample grids, plots, ``summary.json`` (and any other JSON output, written atomically), the final
report, and the TensorBoard scalars of a metrics row.

TensorBoard tags are the same for the same quantity in ``evogan.run`` and ``evogan.train``
(x-axis: the generation in ``evogan.run``, the gradient step in ``evogan.train``):

======================  ==================================================================
``quality/best_fid``    fitness FID of the best generator (run: the generation's best G;
                        train: the one individual)
``quality/mean_fid``    run: the generator population's mean
``scores/real_score``   D's probability of "real" on held-out real images (run: best D)
``scores/fake_score``   D's probability of "real" on generated images (run: best G)
``scores/d_accuracy``   D's balanced accuracy (run: best D)
``scores/fool_rate``    run: fraction of the best G's samples its opponents judge real
``losses/loss_g``       generator loss (run: best G)
``losses/loss_d``       discriminator loss (run: best D)
``time/seconds``        wall-clock seconds of the generation / evaluation interval
``population/<key>``    run: every other numeric population statistic (``mean_*``, ``invalid``)
``hparams/<key>``       train: ``lr_g``, ``lr_d``, ``optimizer_lr_*``, ``lr_factor``
``train/<key>``         train: loss averages over the interval (``train_*``)
``balancer/<key>``      train: DQN balancer statistics (``balancer_*``)
``samples/best``        image: the best generator's 8x8 grid (the same latents every time)
``final/best_fid``      HParams metric: the lowest fitness FID of the run / trial
``final/<metric>``      HParams metric: the final report's metrics (``fid_domain_2k`` ...)
======================  ==================================================================

``evogan.sweep`` writes the same tags for each Tune trial against its step
(:class:`evogan.tune.tensorboard.TensorBoardCallback`), so ``tensorboard --logdir runs`` shows GA
runs, standalone trainings and Tune trials side by side. At the end each of the three writes
TensorBoard HParams: the same main config keys (:data:`HPARAM_KEYS`, plus ``command``) and the
``final/`` metrics, so the HParams tab compares them in one table.

``plots/{scores,losses,quality}.png`` draw the ``scores/``, ``losses/`` and ``quality/`` tags.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import torch

from evogan.config import Config
from evogan.io.checkpoint import atomic_write_bytes
from evogan.io.run_dir import RunDir

if TYPE_CHECKING:
    from evogan.io.metrics_log import MetricsLog

GRID_SIZE = 64
"""Images in a sample grid (8x8)."""
SAMPLES_TAG = "samples/best"

QUANTITIES: dict[str, tuple[str, str | None]] = {
    "quality/best_fid": ("best_fid", "fid"),
    "quality/mean_fid": ("mean_fid", None),
    "scores/real_score": ("best_real_score", "real_score"),
    "scores/fake_score": ("best_fake_score", "fake_score"),
    "scores/d_accuracy": ("best_d_accuracy", "d_accuracy"),
    "scores/fool_rate": ("best_fool_rate", None),
    "losses/loss_g": ("best_loss_g", "loss_g"),
    "losses/loss_d": ("best_loss_d", "loss_d"),
}
"""Tag -> (key in an ``evogan.run`` row's ``population``, key in an ``evogan.train`` row)."""


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def generation_scalars(row: Mapping[str, Any]) -> dict[str, float]:
    """Tag -> value of one ``evogan.run`` metrics row (a generation summary)."""
    population = row.get("population", {})
    named = {run_key for run_key, _ in QUANTITIES.values()}
    out = {tag: population.get(run_key) for tag, (run_key, _) in QUANTITIES.items()}
    out.update({f"population/{key}": value for key, value in population.items()
                if key not in named and not key.endswith("uid")})
    out["time/seconds"] = row.get("seconds")
    return {tag: float(value) for tag, value in out.items() if _finite(value)}


def evaluation_scalars(row: Mapping[str, Any]) -> dict[str, float]:
    """Tag -> value of one ``evogan.train`` metrics row (an evaluation record)."""
    named = {train_key for _, train_key in QUANTITIES.values() if train_key}
    out = {tag: row.get(train_key) for tag, (_, train_key) in QUANTITIES.items() if train_key}
    for key, value in row.items():
        if key in named or key in ("step", "generation", "seconds", "train_seconds"):
            continue
        group = "balancer" if key.startswith("balancer_") else "train" if key.startswith("train_") else "hparams"
        out[f"{group}/{key}"] = value
    out["time/seconds"] = row.get("seconds")
    out["time/train_seconds"] = row.get("train_seconds")
    return {tag: float(value) for tag, value in out.items() if _finite(value)}


SCALARS = {"generation": generation_scalars, "step": evaluation_scalars}
"""The x-axis of a run's rows -> its scalar view (``generation``: evogan.run, ``step``: evogan.train)."""


# ----------------------------------------------------------------------------- writers


def write_sample_grid(images: torch.Tensor, path: Path, log: "MetricsLog | None" = None, step: int = 0) -> torch.Tensor:
    """uint8 (N, C, H, W) images as an 8-column PNG grid at ``path`` (and to TensorBoard)."""
    from torchvision.utils import make_grid, save_image

    grid = make_grid(images.float() / 255.0, nrow=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid, path)
    if log is not None:
        log.image(SAMPLES_TAG, grid, step)
    return grid


def write_plots(run_dir: RunDir, rows: Sequence[Mapping[str, Any]], metric: str, x: str = "generation") -> list[Path]:
    """``plots/{scores,losses,quality}.png`` from metrics rows against ``x`` (generation or step)."""
    from evogan.io.plots import plot_groups

    scalars = SCALARS[x]
    return plot_groups(run_dir, [row[x] for row in rows], x, [scalars(row) for row in rows], metric)


def json_safe(value: Any) -> Any:
    """JSON has no NaN/inf: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    """``payload`` as indented JSON at ``path``, atomically (NaN/inf as null)."""
    text = json.dumps(json_safe(payload), indent=2, default=str)
    atomic_write_bytes(path, lambda handle: handle.write(text.encode()))


def write_summary(path: Path, summary: Mapping[str, Any]) -> dict[str, Any]:
    """Write ``summary.json`` (of a run directory or a sweep) atomically; returns the summary."""
    write_json(path, summary)
    return dict(summary)


ReportFn = Callable[[torch.Tensor, str, bool, bool], dict[str, float]]
"""(uint8 images, extractor, kid, inception_score) -> metrics: a QualityScorer's or FID actor's ``report``."""


def final_report(config: Config, run_dir: RunDir, report: ReportFn, device: str = "cpu") -> dict[str, float]:
    """Score the run's best generator (``checkpoints/best.pt``) with the report extractor and
    sample count; {} when no best generator was saved."""
    from evogan.io.checkpoint import load_generator
    from evogan.models.sampling import sample_images
    from evogan.seeding import derive_seed
    from evogan.training.member import seeded_generator

    if not run_dir.best_checkpoint.is_file():
        return {}
    variant, modules, _ = load_generator(run_dir.best_checkpoint, device=device)
    metrics = config.metrics
    images = sample_images(variant, modules, metrics.report_samples,
                           seeded_generator(derive_seed(config.seed, "report")))
    return report(images, metrics.report_extractor, metrics.kid, metrics.inception_score)


# ----------------------------------------------------------------------------- end of a run

HPARAM_KEYS = ("seed", "data.name", "data.resolution", "data.limit", "model.variant", "model.latent_dim", "model.width",
               "train.lr_g", "train.lr_d", "train.loss", "train.batch_size", "train.steps_per_generation",
               "train.lr_schedule", "train.augment", "evolution.mode", "evolution.population_size",
               "evolution.generations", "evolution.selection", "evolution.crossover", "evolution.mutation_sigma",
               "fitness.objectives", "fitness.eval_samples", "metrics.fitness_extractor")
"""The resolved config's main keys, logged as TensorBoard HParams by evogan.run, .train and .sweep."""


def hparams_of(config: Config, command: str) -> dict[str, bool | int | float | str]:
    """HParams of a run: :data:`HPARAM_KEYS` of ``config`` (lists as text) and ``command``
    (``run``, ``train`` or ``sweep``)."""
    from evogan.config import to_dict

    values: dict[str, Any] = to_dict(config)
    out: dict[str, bool | int | float | str] = {"command": command}
    for key in HPARAM_KEYS:
        value: Any = values
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            out[key] = value if isinstance(value, (bool, int, float, str)) else json.dumps(value)
    return out


def final_scalars(summary: Mapping[str, Any]) -> dict[str, float]:
    """``final/best_fid`` and ``final/<metric>`` of a summary (``best_fitness_fid``, ``final_metrics``)."""
    out = {"final/best_fid": summary.get("best_fitness_fid")}
    out.update({f"final/{key}": value for key, value in (summary.get("final_metrics") or {}).items()})
    return {tag: float(value) for tag, value in out.items() if _finite(value)}


def write_hparams(log_dir: Path, hparams: Mapping[str, Any], metrics: Mapping[str, float]) -> None:
    """TensorBoard HParams into ``log_dir`` itself (``run_name="."``), next to the run's scalars."""
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(log_dir)) as writer:
        writer.add_hparams(dict(hparams), dict(metrics), run_name=".")


def finish_run(config: Config, run_dir: RunDir, summary: Mapping[str, Any], command: str = "run") -> None:
    """End-of-run outputs of ``evogan.run`` and ``evogan.train``: TensorBoard HParams (when
    ``output.tensorboard``) and the run report (``report/index.html``)."""
    from evogan.report import refresh_report

    if config.output.tensorboard:
        write_hparams(run_dir.tensorboard_dir, hparams_of(config, command), final_scalars(summary))
    refresh_report(run_dir)
