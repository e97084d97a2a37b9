"""The one command-line frame of ``evogan.run``, ``evogan.train``, ``evogan.sweep`` and ``evogan.fid``.

Exit codes: 0 done; 2 bad input (a config value, a dataset, a path, a checkpoint: ``error:
<one line>`` on stderr, no traceback, nothing started); 130 interrupted (one line, with the
command that resumes where there is one); 1 a failure during the run (the traceback;
everything already saved is kept).

An entry point is ``main(argv, session) -> int``; it calls :meth:`Session.started` once its
inputs are checked and work begins. Bad-input errors raised after that are failures of the
run, not of the user's input, and propagate (exit 1).
"""

from __future__ import annotations

import logging
import sys
from typing import Callable

from evogan.config import ConfigError
from evogan.data import DataError
from evogan.io.checkpoint import CheckpointError
from evogan.io.inputs import InputError

BAD_INPUT = (ConfigError, DataError, CheckpointError, InputError)
"""Exceptions that mean the user's input is unusable; each message names the culprit."""
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class Session:
    """What an entry point tells the frame: whether work has begun, and how to resume it."""

    def __init__(self) -> None:
        self.working = False
        self.resume_command: str | None = None

    def started(self, resume_command: str | None = None) -> None:
        """Inputs are checked; work begins. ``resume_command`` continues it after an interrupt."""
        self.working = True
        self.resume_command = resume_command


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    return " ".join(lines) or err.__class__.__name__


def run_cli(main: Callable[[list[str], Session], int], argv: list[str] | None = None,
            log_level: int = logging.INFO) -> int:
    """Set up logging, run ``main(argv, session)`` and map bad input / interrupts to exit codes.

    Log records go to stdout at ``log_level`` and above (WARNING and up go to stderr when
    ``log_level`` is WARNING, for commands whose stdout is their result).
    """
    stream = sys.stderr if log_level >= logging.WARNING else sys.stdout
    logging.basicConfig(level=log_level, format="%(message)s", stream=stream)
    session = Session()
    try:
        return main(list(sys.argv[1:] if argv is None else argv), session)
    except BAD_INPUT as err:
        if session.working:
            raise
        print(f"error: {one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        hint = f"; resume with: {session.resume_command}" if session.resume_command else ""
        print(f"interrupted{hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
