"""The run directory ``<output.root>/0001-<variant>-<dataset>/`` and the name of every path in it.

Nothing else in evogan spells a run-directory path: code asks :class:`RunDir` for it.

==========================  ============================================================
``config.yaml``             the resolved config (``RunDir.config``)
``trainer.yaml``            ``python -m evogan.train``'s ``trainer:`` section
``metrics.jsonl``           one line per generation / evaluation
``summary.json``            first/last statistics and the final report metrics
``samples/``                ``gen_NNNN.png`` (evolution) or ``step_NNNNNN.png`` (trainer) grids
``plots/``                  ``scores.png``, ``losses.png``, ``quality.png`` (``shapes``: ``mode_coverage.png``)
``tensorboard/``            TensorBoard event files
``checkpoints/latest.pt``   what ``--resume`` continues from
``checkpoints/latest.json`` manifest of actor-side checkpoint shards
``checkpoints/best.pt``     the best generator so far (a "generator" checkpoint)
``checkpoints/mixture.pt``  the final generators' FID-optimised mixture (a "mixture" checkpoint)
``report/index.html``       the static run report (``python -m evogan.report``)
==========================  ============================================================
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from evogan.config import Config, dump_yaml
from evogan.io.inputs import InputError

CONFIG_FILE = "config.yaml"
TRAINER_FILE = "trainer.yaml"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
SUBDIRS = ("samples", "plots", "checkpoints", "tensorboard")
_NUMBERED = re.compile(r"(\d{4,})-")


@dataclass(frozen=True)
class RunDir:
    """One run directory; every path in it is a property or method of this object."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def __fspath__(self) -> str:
        return str(self.root)

    def __str__(self) -> str:
        return str(self.root)

    # ------------------------------------------------------------------ files
    @property
    def config(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def trainer_config(self) -> Path:
        return self.root / TRAINER_FILE

    @property
    def metrics(self) -> Path:
        return self.root / METRICS_FILE

    @property
    def summary(self) -> Path:
        return self.root / SUMMARY_FILE

    # ------------------------------------------------------------------ folders
    @property
    def samples_dir(self) -> Path:
        return self.root / "samples"

    def sample_grid(self, generation: int) -> Path:
        """The sample grid of an evolution generation."""
        return self.samples_dir / f"gen_{generation:04d}.png"

    def step_sample_grid(self, step: int) -> Path:
        """The sample grid of the standalone trainer at a gradient step."""
        return self.samples_dir / f"step_{step:06d}.png"

    @property
    def plots_dir(self) -> Path:
        return self.root / "plots"

    def plot(self, name: str) -> Path:
        """``plots/<name>.png``."""
        return self.plots_dir / f"{name}.png"

    @property
    def tensorboard_dir(self) -> Path:
        return self.root / "tensorboard"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    @property
    def report_index(self) -> Path:
        """``report/index.html``: the static page :mod:`evogan.report` writes."""
        return self.report_dir / "index.html"

    @property
    def checkpoints_dir(self) -> Path:
        return self.root / "checkpoints"

    @property
    def latest_checkpoint(self) -> Path:
        return self.checkpoints_dir / "latest.pt"

    @property
    def latest_manifest(self) -> Path:
        return self.checkpoints_dir / "latest.json"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints_dir / "best.pt"

    # ------------------------------------------------------------------ making and opening
    @classmethod
    def create(cls, config: Config) -> "RunDir":
        """Make the next free numbered directory under ``output.root``, its sub-folders and config.yaml."""
        root = Path(config.output.root).expanduser()
        root.mkdir(parents=True, exist_ok=True)
        numbers = [int(m.group(1)) for p in root.iterdir() if (m := _NUMBERED.match(p.name))]
        number = max(numbers, default=0) + 1
        while True:
            run = cls(root / f"{number:04d}-{config.model.variant}-{config.data.name}")
            try:
                run.root.mkdir()
                break
            except FileExistsError:
                number += 1
        for sub in (run.samples_dir, run.plots_dir, run.checkpoints_dir, run.tensorboard_dir):
            sub.mkdir()
        run.config.write_text(dump_yaml(config))
        return run

    @classmethod
    def open(cls, path: str | os.PathLike, trainer: bool = False) -> "RunDir":
        """An existing run directory (``trainer``: one of ``python -m evogan.train``); InputError
        naming ``path`` when it is missing, not a directory or lacks its config."""
        run = cls(Path(path).expanduser())
        if not run.root.exists():
            raise InputError(f"{run.root}: no such run directory")
        if not run.root.is_dir():
            raise InputError(f"{run.root}: is a file, expected a run directory")
        needed = (run.config, run.trainer_config) if trainer else (run.config,)
        missing = [p.name for p in needed if not p.is_file()]
        if missing:
            kind = "trainer run directory" if trainer else "run directory"
            raise InputError(f"{run.root}: not a {kind} (no {' / '.join(missing)})")
        return run
