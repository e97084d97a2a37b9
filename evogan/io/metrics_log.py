"""metrics.jsonl (one line per generation or evaluation) and TensorBoard scalars/images.

The scalars of a row go to TensorBoard under the tags :mod:`evogan.io.outputs` defines.
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch

from evogan.io.jsonl import read_jsonl  # noqa: F401  (re-exported: evogan.io.metrics_log.read_jsonl)
from evogan.io.outputs import SCALARS, json_safe
from evogan.io.run_dir import RunDir


class MetricsLog:
    """Append-only metrics.jsonl plus an optional TensorBoard writer.

    ``x`` is the key of a row's TensorBoard step: ``generation`` (evogan.run) or ``step``
    (evogan.train); it also picks the row's scalar view (:data:`evogan.io.outputs.SCALARS`).
    """

    def __init__(self, run_dir: RunDir, tensorboard: bool, resume_after: int | None = None, x: str = "generation"):
        self.path = run_dir.metrics
        self.x, self.scalars = x, SCALARS[x]
        if resume_after is not None:
            self._truncate(resume_after)
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir.tensorboard_dir))

    def _truncate(self, last_generation: int) -> None:
        """Drop lines past the checkpoint a resumed run continues from."""
        rows = [r for r in read_jsonl(self.path) if r.get("generation", -1) <= last_generation]
        tmp = self.path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
        os.replace(tmp, self.path)

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(json_safe(record)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if self.writer is not None:
            for tag, value in self.scalars(record).items():
                self.writer.add_scalar(tag, value, record[self.x])
            self.writer.flush()

    def image(self, tag: str, grid: torch.Tensor, step: int) -> None:
        if self.writer is not None:
            self.writer.add_image(tag, grid, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
