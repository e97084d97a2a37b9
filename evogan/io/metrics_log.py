"""metrics.jsonl (one line per generation) and TensorBoard scalars/images."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch


def _clean(value: Any) -> Any:
    """JSON cannot hold NaN/inf: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a torn last line from a crash: everything before it is intact
    return rows


class MetricsLog:
    """Append-only metrics.jsonl plus an optional TensorBoard writer."""

    def __init__(self, run_dir: Path, tensorboard: bool, resume_after: int | None = None):
        self.path = run_dir / "metrics.jsonl"
        if resume_after is not None:
            self._truncate(resume_after)
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir / "tensorboard"))

    def _truncate(self, last_generation: int) -> None:
        """Drop lines past the checkpoint a resumed run continues from."""
        rows = [r for r in read_jsonl(self.path) if r.get("generation", -1) <= last_generation]
        tmp = self.path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
        os.replace(tmp, self.path)

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(_clean(record)) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if self.writer is not None:
            step = record["generation"]
            for key, value in record.get("population", {}).items():
                if isinstance(value, (int, float)) and math.isfinite(value):
                    self.writer.add_scalar(f"population/{key}", value, step)

    def image(self, tag: str, grid: torch.Tensor, step: int) -> None:
        if self.writer is not None:
            self.writer.add_image(tag, grid, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
