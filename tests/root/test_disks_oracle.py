"""Differential test of the disks stage against Debian's Go Ignition 2.14.

Both implementations run fetch-offline then disks on identically prepared,
fresh loop disks; the partition tables (number, label, start, size, type GUID,
GUID when the config gives one) and filesystems (type, label, uuid when given)
they leave must be equal, and a config one rejects the other must reject too.

Go 2.14 waits for every device with systemd: it starts `<dev>.device` over
D-Bus on /run/systemd/private and waits for the JobRemoved signal. This
machine has no systemd, so Go is run in a private mount namespace where a
stand-in answers on that socket (below). Its sgdisk ends with a BLKRRPART
re-read, which on this kernel (no partition parser) drops every partition;
the stand-in therefore runs `partx --update` on the parent disk before it
reports a partition's device unit as started, which is what a kernel with a
parser and systemd's device units would give Go on a real machine.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.root.loopdev import Attach, filesystem, loops, node, prepare, table, udevd  # noqa: F401 - fixtures
from tests.root.oracle import GO_IGNITION, OURS, run_stages
from tests.root.test_disks_cases import NEGATIVE, POSITIVE, Case

pytestmark = [pytest.mark.root, pytest.mark.oracle]


def _pad(buf: bytearray, n: int) -> None:
    buf += b"\0" * (-len(buf) % n)


def _str(buf: bytearray, s: str) -> None:
    _pad(buf, 4)
    b = s.encode()
    buf += struct.pack("<I", len(b)) + b + b"\0"


def _sig(buf: bytearray, s: str) -> None:
    buf += bytes([len(s)]) + s.encode() + b"\0"


def message(kind: int, serial: int, fields: list[tuple[int, str, object]], sig: str = "",
            args: tuple[object, ...] = ()) -> bytes:
    """A little-endian D-Bus message whose body holds only `u`, `s` and `o` values."""
    body = bytearray()
    for t, v in zip(sig, args, strict=True):
        if t == "u":
            _pad(body, 4)
            body += struct.pack("<I", v)
        else:
            _str(body, str(v))
    if sig:
        fields = [*fields, (8, "g", sig)]
    buf = bytearray(b"l" + bytes([kind, 0, 1]) + struct.pack("<III", len(body), serial, 0))
    for code, t, v in fields:
        _pad(buf, 8)
        buf.append(code)
        _sig(buf, t)
        if t == "g":
            _sig(buf, str(v))
        elif t == "u":
            _pad(buf, 4)
            buf += struct.pack("<I", v)
        else:
            _str(buf, str(v))
    struct.pack_into("<I", buf, 12, len(buf) - 16)
    _pad(buf, 8)
    return bytes(buf + body)


def parse(data: bytes) -> tuple[int, int, int, dict[int, object], bytes, int] | None:
    """(type, flags, serial, header fields, body, total length) of the first message, or None."""
    if len(data) < 16:
        return None
    kind, flags = data[1], data[2]
    body_len, serial, flen = struct.unpack_from("<III", data, 4)
    start = 16 + flen + (-(16 + flen) % 8)
    if len(data) < start + body_len:
        return None
    fields: dict[int, object] = {}
    off = 16
    while off < 16 + flen:
        off += -off % 8
        code, slen = data[off], data[off + 1]
        t = data[off + 2:off + 2 + slen].decode()
        off += 3 + slen
        if t == "g":
            n = data[off]
            fields[code] = data[off + 1:off + 1 + n].decode()
            off += 2 + n
        else:
            off += -off % 4
            (n,) = struct.unpack_from("<I", data, off)
            fields[code] = n if t == "u" else data[off + 4:off + 4 + n].decode()
            off += 4 if t == "u" else 5 + n
    return kind, flags, serial, fields, data[start:start + body_len], start + body_len


def first_string(body: bytes) -> str:
    (n,) = struct.unpack_from("<I", body, 0)
    return body[4:4 + n].decode()


def unit_path(unit: str) -> str:
    name = unit.removesuffix(".device")
    return "/" + re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), name.replace("-", "/"))


class FakeSystemd:
    """Just enough of systemd's private D-Bus API for Go Ignition's device waits."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.serial = 1000
        self.jobs = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.sock.close()
        with self.lock:
            for c in self.conns:
                c.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _send(self, conn: socket.socket, data: bytes) -> None:
        with self.lock:
            conn.sendall(data)

    def _next(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while b"BEGIN\r\n" not in buf:  # SASL: accept EXTERNAL
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buf += chunk
                while b"\r\n" in buf and not buf.lstrip(b"\0").startswith(b"BEGIN"):
                    line, buf = buf.split(b"\r\n", 1)
                    line = line.lstrip(b"\0")
                    if (line.startswith(b"AUTH EXTERNAL") and len(line.split()) == 3) or line.startswith(b"DATA"):
                        conn.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
                    elif line.startswith(b"AUTH EXTERNAL"):
                        conn.sendall(b"DATA\r\n")
                    elif line.startswith(b"AUTH"):
                        conn.sendall(b"REJECTED EXTERNAL\r\n")
                    elif line.startswith(b"NEGOTIATE_UNIX_FD"):
                        conn.sendall(b"AGREE_UNIX_FD\r\n")
            buf = buf.split(b"BEGIN\r\n", 1)[1]
            with self.lock:
                self.conns.append(conn)
            while True:
                msg = parse(buf)
                if msg is None:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                    continue
                kind, flags, serial, fields, body, length = msg
                buf = buf[length:]
                if kind == 1:
                    self._call(conn, serial, flags, str(fields.get(3, "")), body)
        except OSError:
            return

    def _call(self, conn: socket.socket, serial: int, flags: int, member: str, body: bytes) -> None:
        reply: tuple[str, tuple[object, ...]] = ("", ())
        job = ""
        if member == "StartUnit":
            self.jobs += 1
            job = f"/org/freedesktop/systemd1/job/{self.jobs}"
            reply = ("o", (job,))
        elif member == "GetUnit":
            reply = ("o", ("/org/freedesktop/systemd1/unit/x",))
        if not flags & 1:
            self._send(conn, message(2, self._next(), [(5, "u", serial)], *reply))
        if job:
            unit = first_string(body)
            result = "done" if self._plug(unit_path(unit)) else "timeout"
            sig = message(4, self._next(), [(1, "o", "/org/freedesktop/systemd1"),
                                            (2, "s", "org.freedesktop.systemd1.Manager"), (3, "s", "JobRemoved")],
                          "uoss", (self.jobs, job, unit, result))
            with self.lock:
                conns = list(self.conns)
            for c in conns:
                with contextlib.suppress(OSError):  # a connection of an earlier stage
                    self._send(c, sig)

    @staticmethod
    def _plug(path: str) -> bool:
        m = re.fullmatch(r"(/dev/loop\d+)p\d+", path)
        if m and not os.path.exists(path):
            subprocess.run(["partx", "--update", m.group(1)], capture_output=True, check=False)
        deadline = time.monotonic() + 10
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


@pytest.fixture
def go_ignition(tmp_path: Path) -> Iterator[str]:
    """A wrapper that runs Go Ignition with the stand-in at /run/systemd/private."""
    sd = tmp_path / "systemd"
    sd.mkdir()
    fake = FakeSystemd(str(sd / "private"))
    wrapper = tmp_path / "go-ignition"
    (tmp_path / "udev").mkdir()
    # Everything Go writes under /run (dev_aliases, blkid cache) lands in a
    # tmpfs of its own namespace; udevd's control socket is bound back in.
    wrapper.write_text(
        "#!/bin/sh\nexec unshare --mount --propagation private sh -ec '"
        f"mount --bind /run/udev {tmp_path}/udev; mount -t tmpfs tmpfs /run; mkdir /run/udev /run/systemd; "
        f"mount --bind {tmp_path}/udev /run/udev; mount --bind {sd} /run/systemd; "
        f"exec {GO_IGNITION} \"$@\"' go-ignition \"$@\"\n")
    wrapper.chmod(0o755)
    yield str(wrapper)
    fake.close()


Outcome = tuple[int, list[list[tuple[object, ...]]], dict[str, tuple[str, str, str]]]


def outcome(case: Case, binary: str, loops: Attach, work: Path) -> tuple[Outcome, str]:  # noqa: F811
    disks = [loops(size, case.sector) for size in case.sizes]
    prepare(case, disks)
    (work / "root").mkdir(parents=True)
    res = run_stages(binary, work, case.render(disks), ["fetch-offline", "disks"])
    subprocess.run(["udevadm", "settle"], check=False)
    for d in disks:  # both tools' tables are read from the disk; show them to the kernel alike
        subprocess.run(["partx", "--update", d], capture_output=True, check=False)
    tables = []
    for d in disks:
        rows = []
        for n, label, start, size, t, guid in table(d):
            given = any(g.upper() == guid for g in case.guids.values())
            rows.append((n, label, start, size, t, guid if given else "(random)"))
        tables.append(rows)
    fss = {}
    for spec, (_, _, uuid) in case.fs.items():
        t, label, got_uuid = filesystem(node(disks, spec))
        fss[spec] = (t, label, got_uuid if uuid else "(any)")
    release(disks)
    return (0 if res.rc == 0 else 1, tables, fss), res.log


def release(disks: list[str]) -> None:
    """Forget the disks now: a filesystem UUID still visible on one run's disk
    makes the other run's mkfs.btrfs refuse the same UUID as "non-unique"."""
    for d in disks:
        for n in [row[0] for row in table(d)]:
            subprocess.run(["wipefs", "-a", f"{d}p{n}"], capture_output=True, check=False)
        subprocess.run(["wipefs", "-a", d], capture_output=True, check=False)
        subprocess.run(["partx", "--delete", d], capture_output=True, check=False)
        subprocess.run(["losetup", "--detach", d], capture_output=True, check=False)


CASES = [c for c in POSITIVE + NEGATIVE if c.oracle]


def go_outcome(case: Case, go_ignition: str, loops: Attach, tmp_path: Path) -> tuple[Outcome, str]:  # noqa: F811
    """Go's result, with one retry on fresh disks: in this harness (a stand-in
    for systemd's D-Bus job API) Go 2.14's disks stage now and then waits for a
    device job forever (seen about once per 36 cases, a different case each
    time, never for ours). The oracle's hang is not a verdict on either side."""
    try:
        return outcome(case, go_ignition, loops, tmp_path / "go")
    except subprocess.TimeoutExpired:
        return outcome(case, go_ignition, loops, tmp_path / "go-retry")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_result_as_go_ignition(case: Case, go_ignition: str, loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    go, go_log = go_outcome(case, go_ignition, loops, tmp_path)
    ours, our_log = outcome(case, OURS, loops, tmp_path / "ours")
    assert go[0] == (1 if case.error else 0), go_log
    if case.go_writes_first:
        # Go 2.14 writes the partitions before it looks at the filesystems; ours
        # checks everything first and leaves the disk as it was (test_disks.py).
        assert ours[0] == go[0], f"go:\n{go_log}\n\nours:\n{our_log}"
    else:
        assert ours == go, f"go:\n{go_log}\n\nours:\n{our_log}"
