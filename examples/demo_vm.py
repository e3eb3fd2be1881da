"""`make demo`, the VM part: the first boot of a real Debian 12 image
(scripts/os-image.sh) with our initramfs (scripts/vm-build.sh, our dracut
module only) in QEMU, examples/demo.ign in fw_cfg. Shows Ignition's journal
lines as the guest logs them, the switch to the provisioned OS, its boot to
the login prompt, the service the config enabled, and what the OS itself
reports (the image's journey-check); then reads the disk image from the host.

Usage: demo_vm.py KERNEL INITRD KVER OS_IMAGE [CONFIG]
Exit codes: 0 the machine came up provisioned, 1 it did not (emergency,
timeout), 3 QEMU could not run a guest here (scripts/demo.sh then falls back
to --local, saying why).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "vm-tests"))

from journey import FIRST_BOOT, report  # noqa: E402
from vmharness import CACHE, QEMU, Image, choose_accel, console_stamps, netdev, stream_qemu  # noqa: E402

TIMEOUT = float(os.environ.get("DEMO_BOOT_TIMEOUT", "600"))
CMDLINE = ("console=ttyS0", "rd.shell=0", "rd.emergency=poweroff",
           "systemd.journald.forward_to_console=1", "systemd.journald.max_level_console=info", *FIRST_BOOT)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1bc|\r")
_SHOW = re.compile(r"\bignition\[\d+\]: |DEMO-SERVICE|systemd\[1\]: (Reached target (ignition-complete|emergency"
                   r"|multi-user)|Failed to start|Starting ignition-\S+\.service|Switching root"
                   r"|Started serial-getty)|Linux version|Run /init|reboot: Power down")
_STAMPED = re.compile(r"^\[\s*(\d+\.\d+)\] (?:(\S+)\[\d+\]: )?(.*)$")
_LOGIN = re.compile(r"(\S+ login:)")

BOLD, DIM, RED, GREEN, OFF = ("\033[1m", "\033[2m", "\033[31m", "\033[32m", "\033[0m") if sys.stdout.isatty() \
    else ("", "", "", "", "")


def step(text: str) -> None:
    print(f"\n{BOLD}== {text}{OFF}", flush=True)


def show(line: str) -> None:
    """One console line, if it is part of the story: Ignition's journal lines
    (forwarded to the console by journald with their guest-clock stamp), the
    systemd lines around the stage units and the switch to the OS, the OS's
    login prompt, and the service the config enabled."""
    line = _ANSI.sub("", line)
    if m := _LOGIN.search(line):  # the prompt ends without a newline: other output follows on its line
        print(f"{GREEN}{m.group(1)}{OFF}   (the provisioned machine's serial login prompt)", flush=True)
        line = line[m.end():]
    if line.startswith("Debian GNU/Linux"):
        print(f"{GREEN}{line.strip()}{OFF}", flush=True)
        return
    if "JOURNEY " in line or not _SHOW.search(line):
        return
    m = _STAMPED.match(line.strip())
    if not m:
        return
    stamp, who, text = m.groups()
    if who == "systemd":
        text = re.sub(r" - .*?(\.\.\.|\.)$", r"\1", text)  # drop the unit description
        bold = "Switching root" in text or "multi-user" in text
        print(f"{BOLD if bold else DIM}[{float(stamp):7.2f}s] systemd: {text}{OFF}", flush=True)
    elif who == "ignition":
        color = RED if re.search(r"CRITICAL|stage failed|error", text) else ""
        print(f"[{float(stamp):7.2f}s] {color}{text}{OFF if color else ''}", flush=True)
    elif "DEMO-SERVICE" in text:
        print(f"{GREEN}[{float(stamp):7.2f}s] {who}: {text}{OFF}", flush=True)
    else:
        print(f"{DIM}[{float(stamp):7.2f}s] {(who + ': ') if who else ''}{text}{OFF}", flush=True)


def run(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


def disk_report(img: Path) -> None:
    step("partition table (sfdisk --json on the image file)")
    table = json.loads(run(["sfdisk", "--json", str(img)]) or "{}").get("partitiontable", {})
    sector = int(table.get("sectorsize", 512))
    print(f"{img.name}: {table.get('label', 'none')}, {img.stat().st_size >> 20} MiB")
    parts = table.get("partitions", [])
    for p in parts:
        print(f"  {p['node'].rsplit('/', 1)[-1]:10} start {p['start']:>8}  size {p['size'] * sector >> 20:>5} MiB"
              f"  name {p.get('name', '-'):10} type {p['type']}")

    step("filesystems (blkid -p at each partition's offset)")
    mountable: dict[str, tuple[int, int]] = {}
    for p in parts:
        off, size = int(p["start"]) * sector, int(p["size"]) * sector
        out = run(["blkid", "-p", "-o", "export", "-O", str(off), "-S", str(size), str(img)])
        probe = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        print(f"  {p.get('name', ''):10} TYPE={probe.get('TYPE', '?'):5} LABEL={probe.get('LABEL', '-'):12}"
              f" UUID={probe.get('UUID', '-')}")
        if probe.get("TYPE") == "ext4":
            mountable[probe.get("LABEL", "")] = (off, size)

    step("what the first boot wrote (read-only loop mounts of the ext4 filesystems)")
    if os.geteuid() != 0:
        print("  (not root: skipping the loop mounts)")
        return
    with tempfile.TemporaryDirectory(prefix="ignition-demo-mnt.") as tmp:
        mounted: list[Path] = []
        try:
            for label, (off, size) in sorted(mountable.items()):
                mnt = Path(tmp) / label
                mnt.mkdir()
                r = subprocess.run(["mount", "-t", "ext4", "-o", f"ro,noload,loop,offset={off},sizelimit={size}",
                                    str(img), str(mnt)], capture_output=True, text=True, check=False)
                if r.returncode != 0:
                    print(f"  mounting {label}: {r.stderr.strip()}")
                    continue
                mounted.append(mnt)
            root, data = Path(tmp) / "debian-root", Path(tmp) / "demo-data"
            if root in mounted:
                print("debian-root (partition 1, the image's root filesystem):")
                for rel in ("etc/hostname", "etc/motd.d/10-welcome", "usr/local/bin/demo-record",
                            "etc/systemd/system/demo.service", "etc/systemd/system/var-lib-demo.mount",
                            "etc/systemd/system/multi-user.target.wants/demo.service",
                            "etc/systemd/system-preset/20-ignition.preset",
                            "home/core/.ssh/authorized_keys.d/ignition", "etc/.ignition-result.json",
                            "etc/machine-id"):
                    describe(root, rel)
                core = [ln for ln in (root / "etc/passwd").read_text().splitlines() if ln.startswith("core:")]
                print(f"  user in /etc/passwd: {core[0] if core else 'MISSING'}")
                groups = [ln.split(":")[0] for ln in (root / "etc/group").read_text().splitlines()
                          if re.search(r"[:,]core(,|$)", ln)]
                print(f"  core's supplementary groups: {', '.join(groups) or '-'}")
            if data in mounted:
                print("demo-data (partition 2, made by the first boot, mounted by var-lib-demo.mount):")
                for rel in ("README", "runs"):
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
        print(f"{head}: {text[:100]}{'...' if len(text) > 100 else ''}")


def main() -> int:
    kernel, initrd, kver, os_image = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    config = Path(sys.argv[5] if len(sys.argv) > 5 else REPO / "examples" / "demo.ign").resolve()
    if shutil.which(QEMU) is None:
        print(f"demo: {QEMU} not found", file=sys.stderr)
        return 3
    image = Image(kernel, initrd, kver, 0.0, initrd.stat().st_size)
    accel = choose_accel(image)
    work = Path(tempfile.mkdtemp(prefix="ignition-demo-vm."))
    disk = work / "disk.img"
    subprocess.run(["cp", "--sparse=always", str(os_image), str(disk)], check=True)
    argv = [QEMU, "-machine", "q35", "-accel", accel, "-smp", "2", "-m", "1024", "-nographic", "-no-reboot",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", " ".join(CMDLINE),
            "-netdev", netdev(), "-device", "virtio-net-pci,netdev=n0",
            "-fw_cfg", f"name=opt/com.coreos/config,file={config}",
            "-drive", f"if=none,id=d0,file={disk},format=raw", "-device", "virtio-blk-pci,drive=d0,serial=disk0"]
    shown = config.relative_to(REPO) if config.is_relative_to(REPO) else config
    step(f"first boot: {kernel.parent.name} + our initramfs ({initrd.stat().st_size / 1e6:.1f} MB) in QEMU ({accel}),"
         f" {shown} in fw_cfg, a copy of the Debian 12 image ({disk.stat().st_size >> 20} MiB, root and free space)")
    print(f"{DIM}(guest-clock stamps; the whole console is kept in {CACHE / 'logs' / 'demo'}){OFF}", flush=True)
    log = CACHE / "logs" / "demo" / "demo.console.log"
    rc, timed_out, seconds = stream_qemu(argv, log, TIMEOUT, show)
    console = log.read_bytes().decode("utf-8", "replace")
    if rc != 0 and not timed_out and "Linux version" not in console:
        print(f"demo: QEMU could not start a guest here (exit {rc}):\n{console[-1500:]}", file=sys.stderr)
        return 3
    rep = report(console)
    if rep:
        step("what the provisioned OS reports about itself (the image's journey-check, on its console)")
        for key, values in rep.items():
            for value in values:
                print(f"  {key:24} {value}")
    stamps = console_stamps(console, {"start": r"Starting ignition-fetch-offline\.service",
                                      "done": r"Reached target ignition-complete\.target",
                                      "switch": r"Switching root"})
    step("verdict")
    if timed_out:
        print(f"{RED}timed out after {TIMEOUT:.0f}s{OFF} (console log: {log})")
        return 1
    if "Switching root" not in console or not rep:
        print(f"{RED}the provisioned OS did not come up{OFF}; console log: {log}")
        return 1
    span = f"{stamps['done'] - stamps['start']:.1f}s" if {"start", "done"} <= stamps.keys() else "?"
    usec = rep.get("multi-user-reached-usec", ["0"])[0]
    up = f"{int(usec) / 1e6:.1f}s" if usec.isdigit() else "?"
    print(f"{GREEN}provisioned and booted{OFF}: Ignition's stages took {span} (guest clock, fetch-offline start to"
          f" ignition-complete.target); the OS reached multi-user.target {up} after the kernel started;"
          f" the VM ran {seconds:.0f}s wall")
    disk_report(disk)
    print(f"\nthe disk image is in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
