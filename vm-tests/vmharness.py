"""QEMU harness: boots a Debian cloud kernel with an initramfs built by dracut
from our dracut/30ignition module, and reads the outcome from the serial
console.

- The image is built once per test session by scripts/vm-build.sh into
  vm-tests/.cache (git-ignored): the kernel is extracted from Debian's .deb,
  dracut runs from a copy of its base directory, the build machine's
  /usr/lib/dracut and /etc are only read.
- The image also holds a test-only dracut module (vm-tests/dracut/99ignition-vmtest)
  that ends every boot with a power-off, after printing Ignition's journal as
  JSON (`VMTEST-JOURNAL {...}` lines) and a verdict (`VMTEST-VERDICT complete`
  at the end of the initrd, `VMTEST-VERDICT emergency` from emergency mode).
- QEMU runs with TCG (KVM only when a probe boot succeeds; on the build
  machine it hangs), `-no-reboot`, a user
  network restricted to the host (`restrict=on`: the guest reaches nothing),
  the config in fw_cfg, virtio raw disk images, and a hard timeout per boot.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("VM_CACHE", REPO / "vm-tests" / ".cache"))
TEST_MODULE = REPO / "vm-tests" / "dracut" / "99ignition-vmtest"
RELAY = REPO / "vm-tests" / "guestfwd_relay.py"
BOOT_TIMEOUT = float(os.environ.get("VM_BOOT_TIMEOUT", "240"))
QEMU = os.environ.get("VM_QEMU", "qemu-system-x86_64")
KVM_PROBE_TIMEOUT = 20.0

# Every boot: serial console, and no shell in emergency mode but a power-off.
BASE_CMDLINE = (
    "console=ttyS0",
    "rd.shell=0",
    "rd.emergency=poweroff",
    # No real root in these images: a tmpfs lets the initrd reach its end.
    "root=tmpfs",
)
# The whole journal on the console (the module alone forwards CRITICAL entries).
JOURNAL_ON_CONSOLE = ("systemd.journald.forward_to_console=1", "systemd.journald.max_level_console=info")
FIRST_BOOT = ("ignition.firstboot", "ignition.platform.id=qemu")

# Filled as the session goes, printed in the terminal summary (conftest.py).
metrics: dict[str, Any] = {"boots": []}


@dataclass(frozen=True)
class Image:
    kernel: Path
    initrd: Path
    kver: str
    build_seconds: float
    initrd_bytes: int


@dataclass
class Boot:
    console: str
    returncode: int | None
    seconds: float
    timed_out: bool
    argv: list[str]
    journal: list[dict[str, Any]] = field(default_factory=list)
    verdict: str | None = None
    journal_broken: int = 0

    @property
    def operator_console(self) -> str:
        """The console as an operator sees it: without the harness's report lines
        (which repeat journal entries that were not necessarily on the console)."""
        return "\n".join(line for line in self.console.splitlines() if "VMTEST-" not in line)

    def sysroot(self) -> dict[str, dict[str, Any]]:
        """What the stages left in /sysroot, listed by the guest when the initrd
        finished: path -> mode, uid, gid, size, sha256 (regular files) or
        target (symlinks)."""
        out: dict[str, dict[str, Any]] = {}
        for m in _SYSROOT.finditer(self.console):
            path, mode, uid, gid, size, what = m.groups()
            entry: dict[str, Any] = {"mode": int(mode, 8), "uid": int(uid), "gid": int(gid), "size": int(size)}
            if what.startswith("-> "):
                entry["target"] = what[3:]
            elif what != "-":
                entry["sha256"] = what
            out[path] = entry
        return out

    def messages(self, max_priority: int = 7) -> list[str]:
        """Ignition's journal messages at `max_priority` or more severe."""
        return [str(e.get("MESSAGE", "")) for e in self.journal
                if int(e.get("PRIORITY", 6)) <= max_priority]

    def critical(self) -> list[str]:
        return self.messages(2)

    def monotonic(self, needle: str) -> float | None:
        """Guest monotonic seconds of the first journal entry containing `needle`."""
        for e in self.journal:
            if needle in str(e.get("MESSAGE", "")):
                return int(e["__MONOTONIC_TIMESTAMP"]) / 1e6
        return None

    def console_time(self, needle: str) -> float | None:
        """Kernel timestamp of the first console line containing `needle`
        (the journal forwarded to the console carries the guest's clock)."""
        for line in self.console.splitlines():
            if needle in line and (m := _STAMP.match(line)):
                return float(m.group(1))
        return None

    def assert_clean(self) -> None:
        """The boot ended by itself with a verdict, and systemd found the
        units' ordering consistent."""
        assert not self.timed_out, self.explain()
        assert self.returncode == 0, self.explain()  # powered off, not killed or crashed
        assert self.verdict is not None, self.explain()
        assert "ordering cycle" not in self.console, self.explain()

    def explain(self) -> str:
        tail = "\n".join(self.console.splitlines()[-60:])
        return (f"qemu exit {self.returncode}, {self.seconds:.1f}s, timed out: {self.timed_out}, "
                f"verdict: {self.verdict}, broken journal lines: {self.journal_broken}\n--- console tail ---\n{tail}")


_JOURNAL = re.compile(r"VMTEST-JOURNAL (\{.*\})\s*$")
_VERDICT = re.compile(r"VMTEST-VERDICT (\w+)")
_SYSROOT = re.compile(r"^VMTEST-SYSROOT (\S+) 0o([0-7]+) (\d+) (\d+) (\d+) (.*?)\r?$", re.M)
_STAMP = re.compile(r"\[\s*(\d+\.\d+)\]")


def parse_console(text: str) -> tuple[list[dict[str, Any]], str | None, int]:
    """The journal entries, the verdict, and how many entry lines were broken
    (console output of another process written into the middle of one)."""
    entries: list[dict[str, Any]] = []
    verdict = None
    broken = 0
    for line in text.splitlines():
        if m := _JOURNAL.search(line):
            try:
                entries.append(json.loads(m.group(1)))
            except json.JSONDecodeError:
                broken += 1
        elif m := _VERDICT.search(line):
            verdict = m.group(1)
    return entries, verdict, broken


def require_tools() -> None:
    missing = [t for t in (QEMU, "dracut", "dpkg-deb", "apt-get") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"vm-tests need {', '.join(missing)}: run scripts/setup.sh as root", pytrace=False)


def choose_accel(image: Image) -> str:
    """TCG, unless KVM really boots this kernel here. `/dev/kvm` existing is
    not enough (on the build machine it exists and a KVM guest hangs), so a
    probe boots the bare kernel, which must print its banner and, having no
    root, panic and exit. The answer is cached per host kernel, guest kernel
    and QEMU; `VM_ACCEL=tcg|kvm` skips the probe."""
    forced = os.environ.get("VM_ACCEL")
    if forced:
        return forced
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    qemu_version = subprocess.run([QEMU, "--version"], capture_output=True, text=True,
                                  check=False).stdout.split("\n")[0]
    key = f"{os.uname().release} {image.kver} {qemu_version}"
    stamp = CACHE / "kvm-probe"
    if stamp.exists():
        cached_key, _, cached = stamp.read_text().partition("\n")
        if cached_key == key and cached.strip() in ("kvm", "tcg"):
            return cached.strip()
    argv = [QEMU, "-machine", "q35", "-accel", "kvm", "-m", "256", "-nographic", "-no-reboot",
            "-kernel", str(image.kernel), "-append", "console=ttyS0 panic=-1"]
    try:
        probe = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=KVM_PROBE_TIMEOUT,
                               check=False)
        works = probe.returncode == 0 and b"Linux version" in probe.stdout
    except subprocess.TimeoutExpired:
        works = False
    accel = "kvm" if works else "tcg"
    stamp.write_text(f"{key}\n{accel}\n")
    return accel


@dataclass
class VM:
    image: Image
    workdir: Path  # disk images and configs; pytest's tmp_path
    logdir: Path  # console logs, kept after the run (under the cache dir)
    accel: str = "tcg"

    def disk(self, name: str, size: str = "1G") -> Path:
        """A sparse raw disk image in the test's directory."""
        path = self.workdir / f"{name}.img"
        with open(path, "wb") as f:
            f.truncate(_size(size))
        return path

    def boot(self, config: bytes | str | None = None, cmdline: Sequence[str] = FIRST_BOOT,
             disks: Sequence[Path] = (), timeout: float = BOOT_TIMEOUT, name: str = "boot",
             journal_on_console: bool = True, guestfwd: Sequence[tuple[str, int, int]] = ()) -> Boot:
        """Boots the image. `guestfwd` lists (guest address, guest port, host
        port): the guest's TCP connections to that address and port are
        relayed to 127.0.0.1:<host port> (guestfwd_relay.py, one process per
        connection); the restricted user network reaches nothing else."""
        argv = [
            QEMU, "-machine", "q35", "-accel", self.accel, "-smp", "2", "-m", "1024",
            "-nographic", "-no-reboot",
            "-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd),
            "-append", " ".join((*base_cmdline(cmdline), *(JOURNAL_ON_CONSOLE if journal_on_console else ()),
                                 *cmdline)),
            "-netdev", netdev(guestfwd), "-device", "virtio-net-pci,netdev=n0",
        ]
        if config is not None:
            cfg = self.workdir / f"{name}.ign"
            cfg.write_bytes(config.encode() if isinstance(config, str) else config)
            argv += ["-fw_cfg", f"name=opt/com.coreos/config,file={cfg}"]
        for i, d in enumerate(disks):
            argv += ["-drive", f"if=none,id=d{i},file={d},format=raw",
                     "-device", f"virtio-blk-pci,drive=d{i},serial=disk{i}"]
        self.logdir.mkdir(parents=True, exist_ok=True)
        log = self.logdir / f"{name}.console.log"
        start = time.monotonic()
        timed_out = False
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
            try:
                rc: int | None = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                proc.kill()
                proc.wait()
                rc = None
        seconds = time.monotonic() - start
        console = log.read_bytes().decode("utf-8", "replace")
        journal, verdict, broken = parse_console(console)
        boot = Boot(console, rc, seconds, timed_out, argv, journal, verdict, broken)
        metrics["boots"].append({
            "name": name, "seconds": round(seconds, 1), "verdict": verdict,
            "fetch_offline_unit_started": boot.console_time("Starting ignition-fetch-offline.service"),
            "fetch_offline_started": boot.monotonic("Stage: fetch-offline"),
            "fetch_offline_finished": boot.monotonic("fetch-offline stage finished successfully"),
        })
        return boot


def base_cmdline(cmdline: Sequence[str]) -> tuple[str, ...]:
    """BASE_CMDLINE, without its tmpfs root when the boot names a real one."""
    if any(arg.startswith("root=") for arg in cmdline):
        return tuple(arg for arg in BASE_CMDLINE if not arg.startswith("root="))
    return BASE_CMDLINE


def netdev(guestfwd: Sequence[tuple[str, int, int]] = ()) -> str:
    """QEMU's user network, restricted to the host (the guest reaches no
    other machine), with each guest address:port in `guestfwd` relayed to a
    port on the host's loopback."""
    opts = ["user", "id=n0", "restrict=on"]
    for addr, port, host_port in guestfwd:
        cmd = f"{sys.executable} {RELAY} {int(host_port)}"
        if "," in cmd:
            raise ValueError(f"guestfwd relay command must not contain a comma: {cmd}")
        opts.append(f"guestfwd=tcp:{addr}:{int(port)}-cmd:{cmd}")
    return ",".join(opts)


def _size(s: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(s[:-1]) * units[s[-1]] if s[-1] in units else int(s)


def stream_qemu(argv: Sequence[str], log: Path, timeout: float,
                on_line: Callable[[str], None] | None = None) -> tuple[int | None, bool, float]:
    """Runs QEMU with its serial console on stdout, writing the console to
    `log` and calling `on_line` with each line (without its end) as it
    arrives, so a caller can show the boot live. A hard `timeout` kills QEMU.
    Returns (exit code or None when killed, timed out, wall seconds)."""
    start = time.monotonic()
    deadline = start + timeout
    timed_out = False
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        pending = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                proc.kill()
                break
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out.write(chunk)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if on_line is not None:
                for raw in lines:
                    on_line(raw.decode("utf-8", "replace").rstrip("\r"))
        if pending and on_line is not None and not timed_out:
            on_line(pending.decode("utf-8", "replace").rstrip("\r"))
        rc: int | None = proc.wait()
    return (None if timed_out else rc), timed_out, time.monotonic() - start


def console_stamps(console: str, patterns: dict[str, str]) -> dict[str, float]:
    """Guest monotonic seconds of the first console line matching each regular
    expression in `patterns` (name -> regex). The journal forwarded to the
    console (`systemd.journald.forward_to_console=1`) prefixes each entry with
    its own monotonic timestamp, so these are the journal's stamps."""
    found: dict[str, float] = {}
    compiled = {name: re.compile(rx) for name, rx in patterns.items()}
    for line in console.splitlines():
        m = _STAMP.search(line)
        if not m:
            continue
        for name, rx in compiled.items():
            if name not in found and rx.search(line):
                found[name] = float(m.group(1))
    return found
