"""Checks of the files and directories a user names, before any work starts.

Each check raises :class:`InputError` with one line that starts with the path (and, where the
path came from a config key or option, names that too). The command-line frame
(:mod:`evogan.cli`) turns it into ``error: <line>`` and exit code 2.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class InputError(ValueError):
    """A path a user named is missing, unreadable or of the wrong kind; the message names it."""


def first_line(err: BaseException, limit: int = 200) -> str:
    """The first line of ``err``'s message (its class name when empty), for one-line errors."""
    text = str(err).strip()
    return text.splitlines()[0][:limit] if text else err.__class__.__name__


def read_json(path: Path, error: type[Exception], unreadable: str) -> Any:
    """The parsed JSON of ``path``; ``error("<unreadable> (<first line of the cause>)")`` when the
    file is missing, not UTF-8 or not JSON (callers check the shape of what they get)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise error(f"{unreadable} ({first_line(err, 160)})") from None


def _named(path: Path, what: str) -> str:
    return f"{path} ({what})" if what else str(path)


def require_file(path: str | os.PathLike, what: str = "") -> Path:
    """``path`` as a Path if it is a regular file we can open and read; else InputError.

    ``what`` says where the path came from (``--config``, ``metrics.inception_weights`` ...).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"{_named(path, what)}: no such file")
    if path.is_dir():
        raise InputError(f"{_named(path, what)}: is a directory, expected a file")
    if not path.is_file():
        raise InputError(f"{_named(path, what)}: not a regular file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as err:
        raise InputError(f"{_named(path, what)}: cannot read ({err.strerror or err.__class__.__name__})") from None
    return path


def require_dir(path: str | os.PathLike, what: str = "") -> Path:
    """``path`` as a Path if it is a directory whose entries we can list; else InputError."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"{_named(path, what)}: no such directory")
    if not path.is_dir():
        raise InputError(f"{_named(path, what)}: is a file, expected a directory")
    try:
        with os.scandir(path) as entries:
            next(entries, None)
    except OSError as err:
        raise InputError(f"{_named(path, what)}: cannot list ({err.strerror or err.__class__.__name__})") from None
    return path


def writable_dir_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be used as a writable directory, or None when it can (creating nothing).

    An existing directory is probed with an anonymous temporary file; for a missing one, its
    nearest existing ancestor must be a writable directory.
    """
    path = Path(path).expanduser().absolute()
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return "is a file, expected a directory" if existing == path else \
            f"cannot be created: {existing} is not a directory"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        where = "" if existing == path else f" (in {existing})"
        return f"not writable{where}: {err.strerror or err.__class__.__name__}"
    return None


def require_writable_dir(path: str | os.PathLike, what: str = "") -> Path:
    """``path`` if it is a writable directory or can be made one (nothing is created); else InputError."""
    path = Path(path).expanduser()
    problem = writable_dir_problem(path)
    if problem:
        raise InputError(f"{_named(path, what)}: {problem}")
    return path


def require_new_file(path: str | os.PathLike, what: str = "") -> Path:
    """``path`` if a file can be written there: not a directory, its folder writable or creatable."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise InputError(f"{_named(path, what)}: is a directory, expected a file name")
    require_writable_dir(path.absolute().parent, what)
    return path
