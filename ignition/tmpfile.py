"""A new, exclusively created temporary file next to where it will be renamed.

tempfile.mkstemp does the same, but the tempfile module (with shutil and
random behind it) is a measurable part of a stage's start-up under
emulation, and this is all the stages need of it."""

from __future__ import annotations

import os

_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


def mkstemp(directory: str, prefix: str) -> tuple[int, str]:
    """(fd, path) of a new file `directory/<prefix><random>`, mode 0600."""
    for _ in range(100):
        path = os.path.join(directory, prefix + os.urandom(6).hex())
        try:
            return os.open(path, _FLAGS, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused temporary file name in {directory} after 100 tries")
