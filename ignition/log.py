"""Logging to the systemd journal, which is what an operator reads after a
failed first boot (`journalctl -t ignition`).

Messages go to journald over its native protocol (one datagram per entry) so
each entry carries structured fields: SYSLOG_IDENTIFIER=ignition, PRIORITY,
IGNITION_STAGE and IGNITION_PLATFORM, plus whatever the caller adds (for
instance the MESSAGE_IDs Ignition uses, which existing tooling searches for).
Without a journal socket (a developer machine, a container) the same lines go
to stderr; `-log-to-stdout` forces stdout.
"""

from __future__ import annotations

import _socket
import array
import contextlib
import errno
import fcntl
import os
import re
import struct
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Protocol, TextIO

JOURNAL_SOCKET = "/run/systemd/journal/socket"

EMERG, ALERT, CRIT, ERR, WARNING, NOTICE, INFO, DEBUG = range(8)
LEVEL_NAMES = ("EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG")

# Ignition's structured entries; tooling (and people) search the journal for them.
MSG_CONFIG_FETCHED = "57124006b5c94805b77ce473e92a8aeb"
MSG_SSH_KEYS_WRITTEN = "225067b87bbd4a0cb6ab151f82fa364b"

_FIELD_NAME = re.compile(r"[A-Z][A-Z0-9_]*\Z")  # as systemd's journal_field_valid()


def encode_journal_entry(fields: Mapping[str, str | bytes]) -> bytes:
    """Serialize one entry in journald's native format: `NAME=value\\n`, or for
    values containing a newline, `NAME\\n` + 64-bit little-endian length +
    value + `\\n`."""
    out = bytearray()
    for name, value in fields.items():
        if not _FIELD_NAME.match(name) or len(name) > 64:
            raise ValueError(f"invalid journal field name {name!r}")
        data = value.encode("utf-8", "replace") if isinstance(value, str) else value
        key = name.encode("ascii")
        if b"\n" in data:
            out += key + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key + b"=" + data + b"\n"
    return bytes(out)


class Sink(Protocol):
    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None: ...


class StreamSink:
    """Human lines on a stream: `CRITICAL : files: message`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        self.stream.write(f"{LEVEL_NAMES[priority]:<9}: {message}\n")
        self.stream.flush()


class JournalSink:
    """Datagrams to journald. An entry too big for one datagram is passed as
    a sealed memfd, as sd_journal_send does; if the journal cannot be reached
    the entry falls back to stderr rather than being lost."""

    def __init__(self, path: str, fallback: Sink | None = None) -> None:
        self.path = path
        self.fallback = fallback or StreamSink(sys.stderr)
        # _socket, not socket: the wrapper module's enum set-up is a
        # noticeable part of every stage's start-up under emulation.
        self.sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM | _socket.SOCK_CLOEXEC)

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        entry = dict(fields)
        entry["PRIORITY"] = str(priority)
        entry["MESSAGE"] = message
        data = encode_journal_entry(entry)
        try:
            try:
                self.sock.sendto(data, self.path)
            except OSError as e:
                if e.errno not in (errno.EMSGSIZE, errno.ENOBUFS):
                    raise
                self._send_memfd(data)
        except OSError:
            self.fallback.emit(priority, message, fields)

    def _send_memfd(self, data: bytes) -> None:
        fd = os.memfd_create("journal-entry", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            os.write(fd, data)
            fcntl.fcntl(
                fd,
                fcntl.F_ADD_SEALS,
                fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL,
            )
            fds = array.array("i", [fd])
            self.sock.sendmsg([], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)], 0, self.path)
        finally:
            os.close(fd)

    def close(self) -> None:
        self.sock.close()


def default_sink(log_to_stdout: bool, dry_run: bool = False) -> Sink:
    """stdout when asked, the journal when its socket exists, else stderr.
    A dry run never writes to the journal: it must leave no trace."""
    if log_to_stdout:
        return StreamSink(sys.stdout)
    path = os.environ.get("IGNITION_JOURNAL_SOCKET", JOURNAL_SOCKET)
    if not dry_run and os.path.exists(path):
        return JournalSink(path)
    return StreamSink(sys.stderr)


class Logger:
    """The logger every stage uses. Each message is prefixed with the stage
    name (as Ignition does) and carries the stage and platform as fields."""

    def __init__(self, sink: Sink, stage: str = "", platform: str = "") -> None:
        self.sink = sink
        self.stage = stage
        self.platform = platform
        self._op_seq = 0

    def log(self, priority: int, message: str, **fields: str) -> None:
        base = {"SYSLOG_IDENTIFIER": "ignition"}
        if self.stage:
            base["IGNITION_STAGE"] = self.stage
        if self.platform:
            base["IGNITION_PLATFORM"] = self.platform
        base.update(fields)
        prefix = f"{self.stage}: " if self.stage else ""
        self.sink.emit(priority, prefix + message, base)

    def crit(self, message: str, **fields: str) -> None:
        self.log(CRIT, message, **fields)

    def err(self, message: str, **fields: str) -> None:
        self.log(ERR, message, **fields)

    def warning(self, message: str, **fields: str) -> None:
        self.log(WARNING, message, **fields)

    def notice(self, message: str, **fields: str) -> None:
        self.log(NOTICE, message, **fields)

    def info(self, message: str, **fields: str) -> None:
        self.log(INFO, message, **fields)

    def debug(self, message: str, **fields: str) -> None:
        self.log(DEBUG, message, **fields)

    @contextlib.contextmanager
    def op(self, description: str) -> Iterator[None]:
        """Log `op(N): [started] ...` and then `[finished] ...` or
        `[failed] ...` with the elapsed time, so a hung or failed step is
        visible in the journal with its duration."""
        self._op_seq += 1
        seq = self._op_seq
        self.info(f"op({seq:x}): [started]  {description}")
        start = time.monotonic()
        try:
            yield
        except BaseException as e:
            elapsed = time.monotonic() - start
            self.err(f"op({seq:x}): [failed]   {description}: {e} ({elapsed:.3f}s)")
            raise
        elapsed = time.monotonic() - start
        self.info(f"op({seq:x}): [finished] {description} ({elapsed:.3f}s)")
