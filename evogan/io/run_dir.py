"""Numbered run directories: ``<root>/0001-<variant>-<dataset>/`` with a fixed layout."""

from __future__ import annotations

import re
from pathlib import Path

from evogan.config import Config, dump_yaml

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"


def create_run_dir(config: Config) -> Path:
    """Make the next free numbered directory under ``output.root`` and save the resolved config."""
    root = Path(config.output.root).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in root.iterdir() if (m := re.match(r"(\d{4,})-", p.name))]
    number = max(numbers, default=0) + 1
    while True:
        run = root / f"{number:04d}-{config.model.variant}-{config.data.name}"
        try:
            run.mkdir()
            break
        except FileExistsError:
            number += 1
    for sub in ("samples", "plots", "checkpoints", "tensorboard"):
        (run / sub).mkdir()
    (run / CONFIG_FILE).write_text(dump_yaml(config))
    return run
