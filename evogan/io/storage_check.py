"""Check a storage location (``output.storage``, ``sweep.storage_path``) before any work starts.

A location is a local path (absolute or relative) or a ``pyarrow.fs`` URI: ``file:///mnt/x``,
``s3://bucket/prefix``, ``gs://bucket/prefix``, ``hdfs://host/path`` ... The URI is parsed with
``pyarrow.fs.FileSystem.from_uri`` (which, for some schemes, already contacts the service:
S3 resolves the bucket's region, so pass ``?region=...`` to avoid that). A local location must
be a directory that exists or can be created, and must be writable; nothing is created here.
"""

from __future__ import annotations

import re

from evogan.io.inputs import InputError, first_line, require_writable_dir, writable_dir_problem

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def check_storage_uri(uri: str, what: str = "output.storage") -> tuple[object, str]:
    """(pyarrow filesystem, path inside it) of ``uri``; InputError naming the URI if unusable.

    ``what`` names the config key the URI came from, for the error line.
    """
    from pyarrow import fs

    if not uri or not uri.strip():
        raise InputError(f"{what}: empty storage location")
    if not _SCHEME.match(uri):  # a plain local path (pyarrow's from_uri wants it absolute)
        return fs.LocalFileSystem(), str(require_writable_dir(uri, what).absolute())
    try:
        filesystem, path = fs.FileSystem.from_uri(uri)
    except Exception as err:  # ArrowInvalid (bad scheme/URI), OSError (unreachable service, no libjvm ...)
        raise InputError(f"{uri} ({what}): unusable storage URI ({first_line(err)})") from None
    if isinstance(filesystem, fs.LocalFileSystem) and (problem := writable_dir_problem(path)):
        raise InputError(f"{uri} ({what}): {problem}")
    return filesystem, path
