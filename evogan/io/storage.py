"""Run storage on ``pyarrow.fs``: a local path or a URI (s3://, gs://, file://, hdfs://).

Checkpoint shards (written by the population actors), manifests (written by the driver) and
a copy of the run directory live here, as Ray Tune's ``storage_path`` does. Writes are
atomic: to a temporary name, then a move (a rename on local disks and mounted paths; object
stores publish a whole object at once). Local writes are fsynced first, so a crash or a
full disk never leaves a torn file under the final name.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pyarrow.fs as pafs


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Storage:
    """One directory (``uri``) of a pyarrow filesystem; paths below it are '/'-separated."""

    def __init__(self, uri: str | os.PathLike):
        uri = str(uri)
        if "://" in uri:
            self.fs, self.root = pafs.FileSystem.from_uri(uri)
        else:
            self.fs, self.root = pafs.LocalFileSystem(), str(Path(uri).expanduser().absolute())
        self.uri = uri
        self.local = isinstance(self.fs, pafs.LocalFileSystem)

    def __reduce__(self):  # pickled by URI, so actors on other nodes open it themselves
        return Storage, (self.uri,)

    def path(self, rel: str) -> str:
        return f"{self.root.rstrip('/')}/{rel}" if rel else self.root

    def write(self, rel: str, data: bytes) -> None:
        """Atomically publish ``data`` at ``rel``."""
        final = self.path(rel)
        self.fs.create_dir(final.rsplit("/", 1)[0], recursive=True)
        tmp = f"{final}.tmp-{uuid.uuid4().hex}"
        try:
            if self.local:
                with open(tmp, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            else:
                with self.fs.open_output_stream(tmp) as handle:
                    handle.write(data)
            self.fs.move(tmp, final)
        except BaseException:
            if self.fs.get_file_info(tmp).type != pafs.FileType.NotFound:
                self.fs.delete_file(tmp)
            raise

    def read(self, rel: str) -> bytes:
        with self.fs.open_input_stream(self.path(rel)) as handle:
            return handle.read()

    def exists(self, rel: str) -> bool:
        return self.fs.get_file_info(self.path(rel)).type != pafs.FileType.NotFound

    def size(self, rel: str) -> int:
        return self.fs.get_file_info(self.path(rel)).size

    def subdirs(self, rel: str) -> list[str]:
        """Names of the directories directly under ``rel`` (sorted; [] if it does not exist)."""
        selector = pafs.FileSelector(self.path(rel), allow_not_found=True)
        return sorted(info.base_name for info in self.fs.get_file_info(selector)
                      if info.type == pafs.FileType.Directory)

    def delete_dir(self, rel: str) -> None:
        if self.exists(rel):
            self.fs.delete_dir(self.path(rel))

    def upload(self, local_dir: Path, rel: str) -> None:
        """Copy a local directory tree below ``rel`` (a run directory's mirror on remote storage)."""
        pafs.copy_files(str(local_dir), self.path(rel), source_filesystem=pafs.LocalFileSystem(),
                        destination_filesystem=self.fs)
