"""`make demo`, the VM part: boots the initramfs built by scripts/vm-build.sh
(our dracut module, the vm-tests power-off module, the demo's root seeding
module) in QEMU with examples/demo.ign in fw_cfg and two blank virtio disks,
shows Ignition's journal lines as the guest logs them, then reports what the
first boot left on the disk images, read from the host.

Usage: demo_vm.py KERNEL INITRD KVER [CONFIG]
Exit codes: 0 first boot complete, 1 it failed (emergency, timeout), 3 QEMU
could not run a guest here (scripts/demo.sh then falls back to --local).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "vm-tests"))

from vmharness import CACHE, QEMU, Image, choose_accel, console_stamps, parse_console, stream_qemu  # noqa: E402

TIMEOUT = float(os.environ.get("DEMO_BOOT_TIMEOUT", "170"))
CMDLINE = (
    "console=ttyS0", "rd.shell=0", "rd.emergency=poweroff",
    # The disks stage creates this filesystem; sysroot.mount waits for it.
    "root=LABEL=demo-root", "rootfstype=ext4", "rw", "vmtest.seedroot",
    "systemd.journald.forward_to_console=1", "systemd.journald.max_level_console=info",
    "ignition.firstboot", "ignition.platform.id=qemu",
)
DISKS = (("disk1", 256 << 20), ("disk2", 96 << 20))

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
_SHOW = re.compile(r"\bignition\[\d+\]: |vmtest-seed-root|systemd\[1\]: (Reached target ignition-complete"
                   r"|Failed to start ignition|Starting ignition-\S+\.service|Reached target emergency)"
                   r"|Linux version|Run /init|reboot: Power down")
_STAMPED = re.compile(r"^\[\s*(\d+\.\d+)\] (?:(\S+)\[\d+\]: )?(.*)$")

BOLD, DIM, RED, GREEN, OFF = ("\033[1m", "\033[2m", "\033[31m", "\033[32m", "\033[0m") if sys.stdout.isatty() \
    else ("", "", "", "", "")


def step(text: str) -> None:
    print(f"\n{BOLD}== {text}{OFF}", flush=True)


def show(line: str) -> None:
    """One console line, if it is part of the story: Ignition's journal lines
    (forwarded to the console by journald with their guest-clock stamp), the
    systemd lines around the stage units, and the boot's milestones."""
    line = _ANSI.sub("", line)
    if "VMTEST-" in line or not _SHOW.search(line):
        return
    m = _STAMPED.match(line.strip())
    if not m:
        return
    stamp, who, text = m.groups()
    if who == "systemd":
        text = re.sub(r" - .*?(\.\.\.|\.)$", r"\1", text)  # drop the unit description
        print(f"{DIM}[{float(stamp):7.2f}s] systemd: {text}{OFF}", flush=True)
    elif who == "ignition":
        color = RED if re.search(r"CRITICAL|stage failed|error", text) else ""
        print(f"[{float(stamp):7.2f}s] {color}{text}{OFF if color else ''}", flush=True)
    else:
        print(f"{DIM}[{float(stamp):7.2f}s] {(who + ': ') if who else ''}{text}{OFF}", flush=True)


def run(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


def report(disks: list[Path]) -> None:
    step("partition tables (sfdisk --json on the image files)")
    parts: list[tuple[Path, dict[str, object], int]] = []
    for img in disks:
        table = json.loads(run(["sfdisk", "--json", str(img)]) or "{}").get("partitiontable", {})
        sector = int(table.get("sectorsize", 512))
        print(f"{img.name}: {table.get('label', 'none')}, {img.stat().st_size >> 20} MiB")
        for p in table.get("partitions", []):
            print(f"  {p['node'].rsplit('/', 1)[-1]:10} start {p['start']:>7}  size {p['size'] * sector >> 20:>4} MiB"
                  f"  name {p.get('name', '-'):10} type {p['type']}")
            parts.append((img, p, sector))

    step("filesystems (blkid -p at each partition's offset)")
    mountable: dict[str, tuple[Path, int, int]] = {}
    for img, p, sector in parts:
        off, size = int(p["start"]) * sector, int(p["size"]) * sector  # type: ignore[call-overload]
        out = run(["blkid", "-p", "-o", "export", "-O", str(off), "-S", str(size), str(img)])
        probe = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        print(f"  {img.name} {p.get('name', ''):10} TYPE={probe.get('TYPE', '?'):5} LABEL={probe.get('LABEL', '-'):10}"
              f" UUID={probe.get('UUID', '-')}")
        if probe.get("TYPE") == "ext4":
            mountable[probe.get("LABEL", "")] = (img, off, size)

    step("what the files stage wrote (read-only loop mounts of the ext4 filesystems)")
    if os.geteuid() != 0:
        print("  (not root: skipping the loop mounts)")
        return
    with tempfile.TemporaryDirectory(prefix="ignition-demo-mnt.") as tmp:
        mounted: list[Path] = []
        try:
            for label, (img, off, size) in sorted(mountable.items()):
                mnt = Path(tmp) / label
                mnt.mkdir()
                r = subprocess.run(["mount", "-t", "ext4", "-o", f"ro,noload,loop,offset={off},sizelimit={size}",
                                    str(img), str(mnt)], capture_output=True, text=True, check=False)
                if r.returncode != 0:
                    print(f"  mounting {label}: {r.stderr.strip()}")
                    continue
                mounted.append(mnt)
            root, data = Path(tmp) / "demo-root", Path(tmp) / "demo-data"
            if root in mounted:
                print("demo-root (disk1 partition 1, the root filesystem):")
                for rel in ("etc/hostname", "etc/motd.d/10-welcome", "opt/demo/run.sh", "usr/local/bin/demo",
                            "etc/systemd/system/demo.service", "etc/systemd/system-preset/20-ignition.preset",
                            "home/core/.ssh/authorized_keys.d/ignition", "etc/.ignition-result.json"):
                    describe(root, rel)
                core = [ln for ln in (root / "etc/passwd").read_text().splitlines() if ln.startswith("core:")]
                print(f"  user in /etc/passwd: {core[0] if core else 'MISSING'}")
                groups = [ln.split(":")[0] for ln in (root / "etc/group").read_text().splitlines()
                          if re.search(r"[:,]core$|[:,]core,", ln)]
                print(f"  core's supplementary groups: {', '.join(groups) or '-'}")
                print(f"  enabled units (preset file): "
                      f"{(root / 'etc/systemd/system-preset/20-ignition.preset').read_text().strip()}")
            if data in mounted:
                print("demo-data (disk1 partition 2, mounted by the mount stage at /var/lib/demo):")
                for rel in ("README", "cache"):
                    describe(data, rel)
        finally:
            for mnt in mounted:
                subprocess.run(["umount", str(mnt)], check=False)


def describe(top: Path, rel: str) -> None:
    p = top / rel
    if not p.exists() and not p.is_symlink():
        print(f"  /{rel}: MISSING")
        return
    st = p.lstat()
    head = f"  {oct(st.st_mode & 0o7777)[2:]:>4} {st.st_uid}:{st.st_gid} /{rel}"
    if p.is_symlink():
        print(f"{head} -> {os.readlink(p)}")
    elif p.is_dir():
        print(f"{head}/")
    else:
        text = p.read_text(errors="replace").strip().replace("\n", " | ")
        print(f"{head}: {text[:90]}{'...' if len(text) > 90 else ''}")


def main() -> int:
    kernel, initrd, kver = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    config = Path(sys.argv[4] if len(sys.argv) > 4 else REPO / "examples" / "demo.ign").resolve()
    if shutil.which(QEMU) is None:
        print(f"demo: {QEMU} not found", file=sys.stderr)
        return 3
    image = Image(kernel, initrd, kver, 0.0, initrd.stat().st_size)
    accel = choose_accel(image)
    work = Path(tempfile.mkdtemp(prefix="ignition-demo-vm."))
    disks = []
    for name, size in DISKS:
        disks.append(work / f"{name}.img")
        with open(disks[-1], "wb") as f:
            f.truncate(size)
    argv = [QEMU, "-machine", "q35", "-accel", accel, "-smp", "2", "-m", "1024", "-nographic", "-no-reboot",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", " ".join(CMDLINE),
            "-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-pci,netdev=n0",
            "-fw_cfg", f"name=opt/com.coreos/config,file={config}"]
    for i, d in enumerate(disks):
        argv += ["-drive", f"if=none,id=d{i},file={d},format=raw",
                 "-device", f"virtio-blk-pci,drive=d{i},serial=disk{i}"]
    step(f"booting {kernel.parent.name} + our initramfs ({initrd.stat().st_size / 1e6:.1f} MB) in QEMU ({accel}),"
         f" {config.relative_to(REPO) if config.is_relative_to(REPO) else config} in fw_cfg,"
         f" 2 blank disks ({', '.join(f'{d.name} {d.stat().st_size >> 20} MiB' for d in disks)})")
    print(f"{DIM}(guest-clock stamps; the console log is kept in {CACHE / 'logs' / 'demo'}){OFF}", flush=True)
    log = CACHE / "logs" / "demo" / "demo.console.log"
    started = time.monotonic()
    rc, timed_out, seconds = stream_qemu(argv, log, TIMEOUT, show)
    console = log.read_bytes().decode("utf-8", "replace")
    if rc != 0 and not timed_out and "Linux version" not in console:
        print(f"demo: QEMU could not start a guest here (exit {rc}):\n{console[-1500:]}", file=sys.stderr)
        return 3
    _, verdict, _ = parse_console(console)
    stamps = console_stamps(console, {"start": r"Starting ignition-fetch-offline\.service",
                                      "done": r"Reached target ignition-complete\.target"})
    step("verdict")
    if timed_out:
        print(f"{RED}timed out after {TIMEOUT:.0f}s{OFF} (console log: {log})")
        return 1
    if verdict != "complete":
        print(f"{RED}first boot failed: verdict {verdict}{OFF}; console log: {log}")
        return 1
    span = f"{stamps['done'] - stamps['start']:.1f}s" if len(stamps) == 2 else "?"
    print(f"{GREEN}ignition-complete.target reached{OFF}: stages took {span} of guest time (fetch-offline start to"
          f" ignition-complete.target); the VM ran {seconds:.0f}s wall ({time.monotonic() - started:.0f}s with"
          f" power-off)")
    report(disks)
    print(f"\ndisk images are in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
