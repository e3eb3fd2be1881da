"""Contents staged on the target before they are put in place.

A file's contents are streamed into a temp file in a directory of the target
filesystem the file will live on (never in memory, never in /run, which is
RAM in the initramfs) and renamed into place only once every fetch and every
hash of the stage has succeeded. The temp files are named `.ignition-stage-`
and 12 hex digits so that a reader, or the next run after a kill, can tell
them apart from anything else and remove them.

A dry run stages nothing: `CountedFile` hashes and counts what streams
through it and drops the bytes (the plan wants sizes and digests).
"""

from __future__ import annotations

import contextlib
import errno
import os
from typing import Any

from ignition.diskerrors import filesystem_error
from ignition.errors import FetchError
from ignition.tmpfile import STRAY, mkstemp

COPY_CHUNK = 1 << 20


class StagedFile:
    """A temp file in `directory` (a host path on the target), created on
    first use so that thousands of pending files hold no descriptors until
    their fetch starts; the descriptor is closed again once it is complete."""

    def __init__(self, directory: str, final: str) -> None:
        self.directory = directory
        self.final = final  # the config path it is meant for, for messages
        self.path: str | None = None
        self._fd: int | None = None
        self.size = 0

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._fd, self.path = mkstemp(self.directory)
            except OSError as e:
                raise self._error(e, "creating a temporary file for") from e
        return self._fd

    def write(self, data: bytes) -> None:
        fd = self._open()
        view = memoryview(data)
        try:
            while view:
                n = os.write(fd, view)
                view = view[n:]
                self.size += n
        except OSError as e:
            raise self._error(e, "staging") from e

    def reset(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
                os.lseek(self._fd, 0, os.SEEK_SET)
            except OSError as e:
                raise self._error(e, "starting over") from e
        self.size = 0

    def close(self) -> None:
        fd = self._open()  # an empty body still makes a file
        self._fd = None
        try:
            # Some filesystems (NFS, FUSE) report a failed write-back only here.
            os.close(fd)
        except OSError as e:
            raise self._error(e, "staging") from e

    def discard(self) -> None:
        """Close and remove. Called while another error is on its way (or
        after the stage is decided), so it never raises: a temp file it
        cannot remove has our name, and the next run sweeps it."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.path is not None:
            path, self.path = self.path, None
            with contextlib.suppress(OSError):
                os.unlink(path)

    def install(self, host: str, mode: int, uid: int | None, gid: int | None) -> None:
        """Rename into place at `host`, owner and mode set first."""
        assert self.path is not None
        if uid is not None or gid is not None:
            os.chown(self.path, -1 if uid is None else uid, -1 if gid is None else gid)
        os.chmod(self.path, mode)
        try:
            os.rename(self.path, host)
        except OSError as e:
            if e.errno != errno.EXDEV:
                full = filesystem_error(e, os.path.dirname(host), f"putting {self.final} in place")
                if full is None:
                    raise
                raise full from e
            # Staged on another filesystem than the final directory's (a mount point an
            # overwrite removed): copy next to the final path, then rename there.
            self._copy_next_to(host, mode, uid, gid)
            os.unlink(self.path)
        self.path = None

    def _copy_next_to(self, host: str, mode: int, uid: int | None, gid: int | None) -> None:
        directory = os.path.dirname(host)
        tmp = None
        try:
            fd, tmp = mkstemp(directory)
            try:
                self.copy_to(fd)
                if uid is not None or gid is not None:
                    os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
            os.rename(tmp, host)
        except BaseException as e:
            if tmp is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            full = filesystem_error(e, directory, f"copying {self.final} into place") \
                if isinstance(e, OSError) else None
            if full is not None:
                raise full from e
            raise

    def copy_to(self, fd: int) -> None:
        """Write the staged bytes to `fd` in bounded chunks."""
        assert self.path is not None
        with open(self.path, "rb") as inp:
            while chunk := inp.read(COPY_CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]

    def _error(self, e: OSError, doing: str) -> FetchError:
        full = filesystem_error(e, self.directory, f"{doing} {self.final} ({self.size} bytes written)")
        if full is not None:
            # The partial temp file goes at once: the error is final and the space is wanted back.
            self.discard()
            return FetchError(full.strerror)
        return FetchError(f"{doing} {self.final} in {self.directory}: {e.strerror or e}")


class CountedFile:
    """A dry run's stand-in: size and sha256 of what would have been staged."""

    def __init__(self, final: str) -> None:
        import hashlib

        self.final = final
        self.path: str | None = None
        self.size = 0
        self._hash: Any = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.size += len(data)
        self._hash.update(data)

    def reset(self) -> None:
        import hashlib

        self.size = 0
        self._hash = hashlib.sha256()

    def close(self) -> None:
        return None

    def discard(self) -> None:
        return None

    @property
    def sha256(self) -> str:
        return str(self._hash.hexdigest())


class InlineBytes:
    """A fragment to append, held in memory: the bytes of an uncompressed
    data: URL are no more than the config text that already holds them, and a
    temp file would cost a create and an unlink on the target for each (on
    the benchmark's disk about as much as writing the file they go to)."""

    def __init__(self, final: str) -> None:
        self.final = final
        self.path: str | None = None
        self.size = 0
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self._chunks.append(bytes(data))
        self.size += len(data)

    def reset(self) -> None:
        self._chunks = []
        self.size = 0

    def close(self) -> None:
        return None

    def discard(self) -> None:
        self._chunks = []

    def copy_to(self, fd: int) -> None:
        for chunk in self._chunks:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]


Staged = StagedFile | CountedFile | InlineBytes


def remove_strays(host_dirs: set[str]) -> list[str]:
    """Remove our temp files left in these directories by an earlier run that
    was killed; returns the host paths removed."""
    removed = []
    for d in sorted(host_dirs):
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for name in names:
            if STRAY.fullmatch(name):
                p = os.path.join(d, name)
                if os.path.isfile(p) and not os.path.islink(p):
                    os.unlink(p)
                    removed.append(p)
    return removed
