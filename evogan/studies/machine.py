"""What machine a study ran on, in words (recorded by the sweep and printed by the report)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def describe() -> dict[str, object]:
    """CPU, cores, GPU, library versions and the load average now."""
    import torch

    info: dict[str, object] = {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
                               "torch": torch.__version__, "os": f"{platform.system()} {platform.release()}",
                               "load_average": load_average()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    try:
        import ray

        info["ray"] = ray.__version__
    except ImportError:  # pragma: no cover
        pass
    return info


def one_line(info: dict) -> str:
    """e.g. '2-core AMD EPYC, no GPU, torch 2.14.1, Python 3.11.7, load average 8.1/9.7/13.0'."""
    gpu = info.get("gpu") or "no GPU"
    load = "/".join(str(x) for x in info.get("load_average") or []) or "n/a"
    return (f"{info.get('cores')}-core {info.get('cpu')}, {gpu}, torch {info.get('torch')}, "
            f"Ray {info.get('ray', '?')}, Python {info.get('python')}, load average {load} (1/5/15 min)")
