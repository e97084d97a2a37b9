"""The run report: one static page per run directory, ``RUN_DIR/report/index.html``.

    python -m evogan.report runs/0003-dcgan-shapes                    # -> runs/0003-dcgan-shapes/report/
    python -m evogan.report runs/a runs/b --out runs/compare           # several runs, curves overlaid

The page needs no server and no network: charts are matplotlib PNGs and sample grids are
embedded as ``data:`` URIs, with a few lines of inline JavaScript for the generation slider.
``evogan.run`` writes it every ``output.report_every`` generations while it runs and at the end.
Pure: reads the run directory's files only (no Ray, no checkpoints).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from evogan.io.run_dir import RunDir

log = logging.getLogger(__name__)


def write_report(run_dirs: Sequence[RunDir], out: Path | None = None, live: bool = False) -> Path:
    """Write the report of ``run_dirs`` to ``out/index.html`` (default: the first run's
    ``report/index.html``); returns the page's path."""
    from evogan.report.page import write_report as write

    return write(run_dirs, out, live)


def refresh_report(run_dir: RunDir, live: bool = False) -> Path | None:
    """Rewrite a run's own report during or after the run; a failure is logged, never raised
    (the run's results matter more than its page)."""
    try:
        return write_report([run_dir], live=live)
    except Exception as err:  # noqa: BLE001  (any failure of a chart must not end a run)
        log.warning("run report not written (%s: %s)", type(err).__name__, err)
        return None
