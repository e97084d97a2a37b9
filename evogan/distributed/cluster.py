"""Starting or joining Ray, safely by default.

* With ``ray.address`` or ``RAY_ADDRESS`` set (as under ``ray job submit``), join that cluster.
* Otherwise start a local instance whose every server (GCS, raylet, dashboard) binds to
  127.0.0.1 only, with Ray's token authentication left on.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from evogan.config import RayConfig

LOOPBACK_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Ray's switch that, set to 0, makes a local instance use the loopback address for every server."""


def cluster_address(cfg: RayConfig) -> str:
    return cfg.address or os.environ.get("RAY_ADDRESS", "")


def prepare_local_environment() -> None:
    """Must run before ``import ray``: local servers listen on 127.0.0.1, not on all interfaces."""
    os.environ.setdefault(LOOPBACK_ONLY_ENV, "0")


@contextlib.contextmanager
def ray_session(cfg: RayConfig) -> Iterator[None]:
    """Join the configured cluster or start a loopback-only local instance; shut down after."""
    address = cluster_address(cfg)
    if not address:
        prepare_local_environment()
    import ray

    if ray.is_initialized():  # a caller (a test, a notebook) already connected
        yield
        return
    if address:
        ray.init(address=address, log_to_driver=True)
    else:
        ray.init(num_cpus=cfg.num_cpus or None, include_dashboard=cfg.dashboard,
                 dashboard_host="127.0.0.1", log_to_driver=True)
    try:
        yield
    finally:
        ray.shutdown()
