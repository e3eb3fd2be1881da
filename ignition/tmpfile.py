"""A new, exclusively created temporary file next to where it will be renamed.

Every temp file the project creates is named TEMP_PREFIX + 12 lowercase hex
digits (STRAY matches exactly that), so that a reader, or the next run after a
kill, can tell it from anything a user made and remove it (ignition/staged.py's
remove_strays). A name with any other shape is never ours.

tempfile.mkstemp does the same, but the tempfile module (with shutil and
random behind it) is a measurable part of a stage's start-up under
emulation, and this is all the stages need of it."""

from __future__ import annotations

import os
import re

TEMP_PREFIX = ".ignition-stage-"
STRAY = re.compile(re.escape(TEMP_PREFIX) + r"[0-9a-f]{12}")

_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


def mkstemp(directory: str) -> tuple[int, str]:
    """(fd, path) of a new file `directory/<TEMP_PREFIX><12 hex>`, mode 0600."""
    for _ in range(100):
        path = os.path.join(directory, TEMP_PREFIX + os.urandom(6).hex())
        try:
            return os.open(path, _FLAGS, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused temporary file name in {directory} after 100 tries")
