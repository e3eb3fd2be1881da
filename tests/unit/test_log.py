"""ignition/log.py: the journal's native protocol, read back from a real
datagram socket, and the human lines of the fallback stream."""

from __future__ import annotations

import array
import fcntl
import io
import os
import re
import socket
import struct
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from ignition import log
from ignition.log import JournalSink, Logger, StreamSink, default_sink, encode_journal_entry


class ListSink:
    """Collects what a Logger emits."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, str, dict[str, str]]] = []

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        self.entries.append((priority, message, dict(fields)))

    @property
    def messages(self) -> list[str]:
        return [m for _, m, _ in self.entries]


def parse_journal_entry(data: bytes) -> dict[str, bytes]:
    """journald's native format, as journald reads it: `NAME=value\\n`, or
    `NAME\\n` + 64-bit little-endian length + value + `\\n`."""
    fields: dict[str, bytes] = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            name, _, value = line.partition(b"=")
            fields[name.decode("ascii")] = value
            i = nl + 1
        else:
            (length,) = struct.unpack_from("<Q", data, nl + 1)
            start = nl + 1 + 8
            fields[line.decode("ascii")] = data[start:start + length]
            assert data[start + length:start + length + 1] == b"\n", "binary field not terminated"
            i = start + length + 1
    return fields


def read_all(fd: int) -> bytes:
    # The memfd's file offset is shared with the sender (it is at the end), so read by position.
    size = os.fstat(fd).st_size
    chunks: list[bytes] = []
    pos = 0
    while pos < size:
        chunk = os.pread(fd, size - pos, pos)
        assert chunk, "memfd shorter than its size"
        chunks.append(chunk)
        pos += len(chunk)
    return b"".join(chunks)


class Journal:
    """A fake journald: a bound AF_UNIX datagram socket in the test's tmp dir."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(5)

    def receive(self) -> tuple[bytes, list[int]]:
        """One datagram and the fds passed with it."""
        fds = array.array("i")
        data, ancdata, _flags, _addr = self.sock.recvmsg(1 << 20, socket.CMSG_SPACE(4 * fds.itemsize))
        for level, typ, cdata in ancdata:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
        return data, list(fds)

    def receive_entry(self) -> dict[str, bytes]:
        data, fds = self.receive()
        assert fds == []
        return parse_journal_entry(data)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Journal]:
    path = str(tmp_path / "journal.sock")
    if len(path) >= 100:  # sun_path is 108 bytes
        monkeypatch.chdir(tmp_path)
        path = "journal.sock"
    j = Journal(path)
    yield j
    j.close()


# encode_journal_entry


def test_encode_simple_fields() -> None:
    data = encode_journal_entry({"MESSAGE": "hello world", "PRIORITY": "6", "MESSAGE_ID": "abc"})
    assert data == b"MESSAGE=hello world\nPRIORITY=6\nMESSAGE_ID=abc\n"


def test_encode_utf8_and_bytes_values() -> None:
    assert encode_journal_entry({"MESSAGE": "caf\u00e9"}) == "MESSAGE=caf\u00e9\n".encode()
    assert encode_journal_entry({"RAW": b"\x00\xff"}) == b"RAW=\x00\xff\n"


def test_encode_value_with_newline_uses_binary_form() -> None:
    value = "line one\nline two"
    data = encode_journal_entry({"MESSAGE": value, "PRIORITY": "3"})
    expected = b"MESSAGE\n" + struct.pack("<Q", len(value)) + value.encode() + b"\n" + b"PRIORITY=3\n"
    assert data == expected
    assert parse_journal_entry(data) == {"MESSAGE": value.encode(), "PRIORITY": b"3"}


def test_encode_binary_length_is_bytes_not_characters() -> None:
    value = "\u00e9\n"
    data = encode_journal_entry({"MESSAGE": value})
    assert data == b"MESSAGE\n" + struct.pack("<Q", 3) + value.encode() + b"\n"


@pytest.mark.parametrize("name", ["A", "MESSAGE_ID", "IGNITION_STAGE", "X" * 64, "A1_2"])
def test_encode_accepts_valid_field_names(name: str) -> None:
    assert encode_journal_entry({name: "v"}) == name.encode() + b"=v\n"


@pytest.mark.parametrize(
    "name",
    [
        "message",  # lowercase
        "Message",
        "_PID",  # leading underscore: trusted fields only journald may set
        "X" * 65,  # journald's limit is 64
        "",
        "MY-FIELD",
        "MY FIELD",
        "A=B",
        "A\nB",
        "\u00c9T\u00c9",
    ],
)
def test_encode_rejects_invalid_field_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid journal field name"):
        encode_journal_entry({name: "v"})


def test_encode_rejects_field_name_starting_with_a_digit() -> None:
    # journald's journal_field_valid(): "Don't allow digits as first character"; such a field
    # would be dropped by journald, so the encoder must refuse it like the other invalid names.
    with pytest.raises(ValueError, match="invalid journal field name"):
        encode_journal_entry({"1ABC": "v"})


# JournalSink against a real datagram socket


@pytest.mark.allow_socket
def test_journal_sink_sends_structured_entry(journal: Journal) -> None:
    sink = JournalSink(journal.path)
    try:
        logger = Logger(sink, stage="files", platform="qemu")
        logger.info("wrote /etc/hostname", MESSAGE_ID=log.MSG_SSH_KEYS_WRITTEN, IGNITION_USER="core")
        fields = journal.receive_entry()
    finally:
        sink.close()
    assert fields == {
        "SYSLOG_IDENTIFIER": b"ignition",
        "IGNITION_STAGE": b"files",
        "IGNITION_PLATFORM": b"qemu",
        "MESSAGE_ID": log.MSG_SSH_KEYS_WRITTEN.encode(),
        "IGNITION_USER": b"core",
        "PRIORITY": b"6",
        "MESSAGE": b"files: wrote /etc/hostname",
    }


@pytest.mark.allow_socket
def test_journal_sink_priorities_and_multiline_message(journal: Journal) -> None:
    sink = JournalSink(journal.path)
    try:
        logger = Logger(sink, stage="disks", platform="metal")
        logger.crit("first line\nsecond line")
        logger.debug("detail")
        first = journal.receive_entry()
        second = journal.receive_entry()
    finally:
        sink.close()
    assert first["PRIORITY"] == b"2"
    assert first["MESSAGE"] == b"disks: first line\nsecond line"
    assert first["SYSLOG_IDENTIFIER"] == b"ignition"
    assert second["PRIORITY"] == b"7"
    assert second["MESSAGE"] == b"disks: detail"


@pytest.mark.allow_socket
def test_journal_sink_without_stage_or_platform_omits_those_fields(journal: Journal) -> None:
    sink = JournalSink(journal.path)
    try:
        Logger(sink).warning("no stage yet")
        fields = journal.receive_entry()
    finally:
        sink.close()
    assert fields == {"SYSLOG_IDENTIFIER": b"ignition", "PRIORITY": b"4", "MESSAGE": b"no stage yet"}


@pytest.mark.allow_socket
def test_journal_sink_passes_huge_entry_as_sealed_memfd(journal: Journal) -> None:
    big = "x" * (4 << 20)  # far more than any socket's maximum datagram
    fallback = io.StringIO()
    sink = JournalSink(journal.path, fallback=StreamSink(fallback))
    try:
        Logger(sink, stage="fetch", platform="qemu").info(big, MESSAGE_ID=log.MSG_CONFIG_FETCHED)
        data, fds = journal.receive()
    finally:
        sink.close()
    assert fallback.getvalue() == ""
    assert data == b""
    assert len(fds) == 1
    fd = fds[0]
    try:
        assert os.readlink(f"/proc/self/fd/{fd}").startswith("/memfd:")
        seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
        for seal in (fcntl.F_SEAL_SHRINK, fcntl.F_SEAL_GROW, fcntl.F_SEAL_WRITE, fcntl.F_SEAL_SEAL):
            assert seals & seal, f"seal {seal:#x} missing"
        fields = parse_journal_entry(read_all(fd))
    finally:
        os.close(fd)
    assert fields["MESSAGE"] == b"fetch: " + big.encode()
    assert fields["PRIORITY"] == b"6"
    assert fields["SYSLOG_IDENTIFIER"] == b"ignition"
    assert fields["IGNITION_STAGE"] == b"fetch"
    assert fields["IGNITION_PLATFORM"] == b"qemu"
    assert fields["MESSAGE_ID"] == log.MSG_CONFIG_FETCHED.encode()


@pytest.mark.allow_socket
def test_journal_sink_falls_back_to_stream_when_socket_is_missing(tmp_path: Path) -> None:
    fallback = io.StringIO()
    sink = JournalSink(str(tmp_path / "no-such-socket"), fallback=StreamSink(fallback))
    try:
        logger = Logger(sink, stage="files", platform="qemu")
        logger.err("writing /etc/passwd failed")
        logger.info("still here")
    finally:
        sink.close()
    assert fallback.getvalue() == (
        "ERROR    : files: writing /etc/passwd failed\n"
        "INFO     : files: still here\n"
    )


def test_stream_sink_level_names() -> None:
    out = io.StringIO()
    sink = StreamSink(out)
    for priority in range(8):
        sink.emit(priority, f"m{priority}", {})
    assert out.getvalue().splitlines() == [
        "EMERGENCY: m0", "ALERT    : m1", "CRITICAL : m2", "ERROR    : m3",
        "WARNING  : m4", "NOTICE   : m5", "INFO     : m6", "DEBUG    : m7",
    ]


# Logger


def test_logger_prefixes_stage_and_sets_fields() -> None:
    sink = ListSink()
    Logger(sink, stage="kargs", platform="aws").notice("hello", EXTRA="1")
    assert sink.entries == [
        (log.NOTICE, "kargs: hello",
         {"SYSLOG_IDENTIFIER": "ignition", "IGNITION_STAGE": "kargs", "IGNITION_PLATFORM": "aws",
          "EXTRA": "1"}),
    ]


_FINISHED = re.compile(r"files: op\((\d+)\): \[finished\] (.*) \((\d+\.\d{3})s\)\Z")


def test_op_logs_started_and_finished_with_duration() -> None:
    sink = ListSink()
    logger = Logger(sink, stage="files")
    with logger.op("writing file /etc/motd"):
        pass
    assert [p for p, _, _ in sink.entries] == [log.INFO, log.INFO]
    assert sink.messages[0] == "files: op(1): [started]  writing file /etc/motd"
    m = _FINISHED.match(sink.messages[1])
    assert m is not None, sink.messages[1]
    assert m.group(1) == "1"
    assert m.group(2) == "writing file /etc/motd"
    assert 0 <= float(m.group(3)) < 60


def test_op_logs_failure_and_reraises() -> None:
    sink = ListSink()
    logger = Logger(sink, stage="disks")
    with pytest.raises(RuntimeError, match="no space left"), logger.op("creating partitions on /dev/vda"):
        raise RuntimeError("no space left")
    assert len(sink.entries) == 2
    assert sink.messages[0] == "disks: op(1): [started]  creating partitions on /dev/vda"
    priority, message, fields = sink.entries[1]
    assert priority == log.ERR
    assert re.fullmatch(
        r"disks: op\(1\): \[failed\]   creating partitions on /dev/vda: no space left \(\d+\.\d{3}s\)",
        message,
    ), message
    assert fields["IGNITION_STAGE"] == "disks"
    assert not any("[finished]" in m for m in sink.messages)


def test_op_sequence_numbers_increase() -> None:
    sink = ListSink()
    logger = Logger(sink, stage="files")
    with logger.op("one"):
        pass
    with logger.op("two"), logger.op("three"):
        pass
    with pytest.raises(ValueError), logger.op("four"):
        raise ValueError("x")
    started = [m for m in sink.messages if "[started]" in m]
    assert started == [
        "files: op(1): [started]  one",
        "files: op(2): [started]  two",
        "files: op(3): [started]  three",
        "files: op(4): [started]  four",
    ]
    # Each op's end carries its own number, inner ops ending first.
    ends = [re.match(r"files: op\((\d+)\): \[(\w+)\]", m) for m in sink.messages if "[started]" not in m]
    assert [(e.group(1), e.group(2)) for e in ends if e] == [
        ("1", "finished"), ("3", "finished"), ("2", "finished"), ("4", "failed"),
    ]


def test_op_without_stage_has_no_prefix() -> None:
    sink = ListSink()
    with Logger(sink).op("x"):
        pass
    assert sink.messages[0] == "op(1): [started]  x"


# default_sink


def test_default_sink_log_to_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Even with a journal present, -log-to-stdout wins.
    present = tmp_path / "journal"
    present.write_bytes(b"")
    monkeypatch.setenv("IGNITION_JOURNAL_SOCKET", str(present))
    sink = default_sink(log_to_stdout=True)
    assert isinstance(sink, StreamSink)
    assert sink.stream is sys.stdout


def test_default_sink_without_journal_is_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IGNITION_JOURNAL_SOCKET", str(tmp_path / "absent"))
    sink = default_sink(log_to_stdout=False)
    assert isinstance(sink, StreamSink)
    assert sink.stream is sys.stderr


@pytest.mark.allow_socket
def test_default_sink_uses_journal_when_socket_exists(journal: Journal,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IGNITION_JOURNAL_SOCKET", journal.path)
    sink = default_sink(log_to_stdout=False)
    assert isinstance(sink, JournalSink)
    try:
        Logger(sink, stage="fetch").info("hi")
        assert journal.receive_entry()["MESSAGE"] == b"fetch: hi"
    finally:
        sink.close()


@pytest.mark.allow_socket
def test_default_sink_dry_run_never_uses_journal(journal: Journal, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("IGNITION_JOURNAL_SOCKET", journal.path)
    sink = default_sink(log_to_stdout=False, dry_run=True)
    assert not isinstance(sink, JournalSink)
    assert isinstance(sink, StreamSink)
    assert sink.stream is sys.stderr
    Logger(sink, stage="files").info("would write /etc/motd")
    assert capsys.readouterr().err == "INFO     : files: would write /etc/motd\n"
    # Nothing reached the journal.
    journal.sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        journal.sock.recv(1)
