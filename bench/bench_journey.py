"""The whole journey in QEMU: power-on to the provisioned OS's multi-user.target,
Debian's Go Ignition dracut module against ours, on the same Debian 12 image.

Builds two initramfs images with scripts/vm-build.sh (same kernel, dracut and
flags): ours (dracut/30ignition) and Go's (Debian's
/usr/lib/dracut/modules.d/30ignition in its place, plus a benchmark-only no-op
`setfiles`, which Go's mount and files stages run to relabel). Neither carries
the vm-tests module: both switch root into the OS. The OS image is
scripts/os-image.sh's, with /etc/selinux/config (SELINUXTYPE=targeted) added
with debugfs for both sides, because Go's mount stage reads it to relabel the
mount point it creates (ours finds no policy files and skips relabeling).

Each round boots, alternately, a fresh copy of the image: first boot with
examples/demo.ign in fw_cfg (ours, then Go's), then the second boot of each
disk without the first-boot argument. The image's check (journey.check)
reports multi-user.target's monotonic timestamp and powers off. Times:
- power-on to multi-user.target: host wall clock from QEMU's start to the
  console line `Reached target multi-user.target` of the OS (firmware
  included);
- kernel to multi-user.target: the OS's ActiveEnterTimestampMonotonic;
- the stages: `Starting ignition-fetch-offline.service` to `Reached target
  ignition-complete.target` (guest clock, as in bench_boot.py).
Medians.

Command: `sudo .venv/bin/python bench/bench_journey.py [-n 2]`
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "vm-tests"))

from bench_boot import GO_MODULE, SETFILES_MODULE
from common import ROOT, machine_facts, table, update_doc
from journey import FIRST_BOOT, LATER_BOOT, report
from vmharness import (
    BASE_CMDLINE,
    CACHE,
    JOURNAL_ON_CONSOLE,
    QEMU,
    Image,
    choose_accel,
    console_stamps,
    netdev,
    stream_qemu,
)

CONFIG = ROOT / "examples" / "demo.ign"
TIMEOUT = 900.0
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Boot:
    ok: bool
    wall: float  # QEMU start to power-off
    to_multi_user: float | None  # QEMU start to the OS's "Reached target multi-user.target" (host clock)
    kernel_to_multi_user: float | None  # the OS's own monotonic stamp
    stages: float | None  # fetch-offline Starting -> ignition-complete.target (guest clock)
    note: str = ""


def script(argv: list[str]) -> dict[str, str]:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env={**os.environ, "VM_CACHE": str(CACHE)})
    if proc.returncode != 0:
        raise SystemExit(f"{argv[1]} failed:\n{proc.stderr[-3000:]}")
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def build(name: str, modules: list[Path], without: bool) -> tuple[Image, str]:
    argv = ["bash", str(ROOT / "scripts" / "vm-build.sh"), "-o", name, *(["--without-ignition"] if without else [])]
    kv = script([*argv, *map(str, modules)])
    return Image(Path(kv["KERNEL"]), Path(kv["INITRD"]), kv["KVER"], float(kv["BUILD_SECONDS"]),
                 int(kv["INITRD_BYTES"])), kv["KMODDIR"]


def with_selinux_config(src: Path, dst: Path, tmp: Path) -> None:
    """A copy of the image whose root has /etc/selinux/config (debugfs, no mount)."""
    subprocess.run(["cp", "--sparse=always", str(src), str(dst)], check=True)
    cfg = tmp / "selinux-config"
    cfg.write_text("SELINUX=permissive\nSELINUXTYPE=targeted\n")
    for cmd in ("mkdir /etc/selinux", f"write {cfg} /etc/selinux/config", "sif /etc/selinux/config mode 0100644"):
        subprocess.run(["debugfs", "-w", "-R", cmd, f"{dst}?offset={1 << 20}"], capture_output=True, check=True)


def boot(label: str, image: Image, accel: str, disk: Path, first: bool) -> Boot:
    cmdline = (*(arg for arg in BASE_CMDLINE if not arg.startswith("root=")), *JOURNAL_ON_CONSOLE,
               *(FIRST_BOOT if first else LATER_BOOT))
    argv = [QEMU, "-machine", "q35", "-accel", accel, "-smp", "2", "-m", "1024", "-nographic", "-no-reboot",
            "-kernel", str(image.kernel), "-initrd", str(image.initrd), "-append", " ".join(cmdline),
            "-netdev", netdev(), "-device", "virtio-net-pci,netdev=n0",
            "-fw_cfg", f"name=opt/com.coreos/config,file={CONFIG}",
            "-drive", f"if=none,id=d0,file={disk},format=raw", "-device", "virtio-blk-pci,drive=d0,serial=disk0"]
    log = CACHE / "logs" / "bench-journey" / f"{label}.console.log"
    start = time.monotonic()
    seen: dict[str, float] = {}

    def on_line(line: str) -> None:
        # The OS's systemd prints this status line itself (the initrd's never reaches multi-user).
        if "multi-user" not in seen and "Reached target" in line and "Multi-User System" in line:
            seen["multi-user"] = time.monotonic() - start

    rc, timed_out, wall = stream_qemu(argv, log, TIMEOUT, on_line)
    console = _ANSI.sub("", log.read_bytes().decode("utf-8", "replace"))
    rep = report(console)
    usec = rep.get("multi-user-reached-usec", [""])[0]
    stamps = console_stamps(console, {"start": r"Starting ignition-fetch-offline\.service",
                                      "done": r"Reached target ignition-complete\.target"})
    b = Boot(ok=True, wall=wall, to_multi_user=seen.get("multi-user"),
             kernel_to_multi_user=int(usec) / 1e6 if usec.isdigit() else None,
             stages=stamps["done"] - stamps["start"] if {"start", "done"} <= stamps.keys() else None)
    problems = []
    if timed_out or rc != 0:
        problems.append(f"qemu exit {rc}, timed out {timed_out}")
    expected = ["demo.service ran on demo-machine"] * (1 if first else 2)
    if [r.split(",")[0] for r in rep.get("runs", [])] != expected:
        problems.append(f"service record {rep.get('runs')}")
    if rep.get("failed", [""]) != [""]:
        problems.append(f"failed units {rep.get('failed')}")
    if first and b.stages is None:
        problems.append("no ignition-complete.target")
    if b.to_multi_user is None or b.kernel_to_multi_user is None:
        problems.append("multi-user.target not seen")
    if problems:
        b.ok = False
        b.note = "; ".join(problems) + f" (console: {log})"
    return b


def fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=2, help="rounds (each: first and second boot of ours and Go's)")
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench_journey: run as root (dracut, mmdebstrap, disk images)")
    if not (GO_MODULE / "ignition").exists():
        raise SystemExit(f"bench_journey: {GO_MODULE} missing: Debian's `ignition` package")

    with tempfile.TemporaryDirectory(prefix="bench-journey.") as tmpdir:
        tmp = Path(tmpdir)
        go_mod = tmp / "30ignition"
        shutil.copytree(GO_MODULE, go_mod, symlinks=True)
        setfiles = tmp / "97bench-setfiles"
        setfiles.mkdir()
        (setfiles / "module-setup.sh").write_text(SETFILES_MODULE)
        (setfiles / "module-setup.sh").chmod(0o755)

        print("building ours and Go's initramfs (scripts/vm-build.sh) and the OS image ...", flush=True)
        ours, kmoddir = build("bench-journey-ours", [], False)
        go, _ = build("bench-journey-go", [go_mod, setfiles], True)
        os_image = Path(script(["bash", str(ROOT / "scripts" / "os-image.sh"), ours.kver, kmoddir])["OS_IMAGE"])
        base = tmp / "base.img"
        with_selinux_config(os_image, base, tmp)
        accel = choose_accel(ours)
        print(f"kernel {ours.kver}, accelerator {accel}, image {os_image.name}", flush=True)

        runs: dict[tuple[str, str], list[Boot]] = {}
        loads = [os.getloadavg()[0]]
        for i in range(args.n):
            disks = {}
            for label in ("ours", "go"):
                disks[label] = tmp / f"{label}-{i}.img"
                subprocess.run(["cp", "--sparse=always", str(base), str(disks[label])], check=True)
            for which in ("first", "second"):
                for label, image in (("ours", ours), ("go", go)):
                    b = boot(f"{label}-{i}-{which}", image, accel, disks[label], which == "first")
                    runs.setdefault((label, which), []).append(b)
                    state = (f"power-on to multi-user {fmt(b.to_multi_user)}, kernel to multi-user"
                             f" {fmt(b.kernel_to_multi_user)}, stages {fmt(b.stages)}") if b.ok else f"FAILED: {b.note}"
                    print(f"round {i + 1}/{args.n} {which} boot {label:4}: {state}; wall {b.wall:.1f} s", flush=True)
                    loads.append(os.getloadavg()[0])
            for d in disks.values():
                d.unlink()

    bad = [b.note for v in runs.values() for b in v if not b.ok]
    for note in bad:
        print(note, file=sys.stderr)

    def med(label: str, which: str, pick: str) -> float | None:
        vals = [getattr(b, pick) for b in runs.get((label, which), []) if b.ok and getattr(b, pick) is not None]
        return statistics.median(vals) if vals else None

    def ratio(a: float | None, b: float | None) -> str:
        return "-" if a is None or not b else f"{a / b:.2f}x"

    rows = []
    for which, pick, name in (("first", "to_multi_user", "first boot: power-on to multi-user.target"),
                              ("first", "kernel_to_multi_user", "first boot: kernel start to multi-user.target"),
                              ("first", "stages", "first boot: fetch-offline Starting to ignition-complete.target"),
                              ("second", "to_multi_user", "second boot: power-on to multi-user.target"),
                              ("second", "kernel_to_multi_user", "second boot: kernel start to multi-user.target")):
        go_v, ours_v = med("go", which, pick), med("ours", which, pick)
        rows.append([name, fmt(go_v), fmt(ours_v), ratio(ours_v, go_v)])
    rows.append(["all first boots, power-on to multi-user.target",
                 " ".join(fmt(b.to_multi_user).removesuffix(" s") for b in runs[("go", "first")]),
                 " ".join(fmt(b.to_multi_user).removesuffix(" s") for b in runs[("ours", "first")]), ""])
    facts = machine_facts()
    md = f"""## The whole journey in QEMU: power-on to the provisioned OS (issue 12)

`bench/bench_journey.py`: the Debian 12 image of scripts/os-image.sh (with /etc/selinux/config added
for both sides, which Go's mount stage reads), first-booted with `examples/demo.ign` in fw_cfg (a
data partition and ext4 in the free space mounted through a `.mount` unit, user `core` with an SSH
key and groups, hostname, files, a service enabled by preset), then booted again without the
first-boot argument; once with an initramfs holding Debian's Go Ignition 2.14 dracut module (and a
no-op `setfiles`), once with ours. Same kernel ({ours.kver}), dracut flags, QEMU flags (`-accel
{accel}`, 2 vCPUs, 1 GiB, restricted user network); {args.n} rounds, alternating, in one run; medians;
{len(bad)} boots failed. Power-on is QEMU's start on the host (firmware included) to the OS's
`Reached target Multi-User System` on the console; kernel start is the OS's own
`ActiveEnterTimestampMonotonic` of multi-user.target.

Command: `sudo .venv/bin/python bench/bench_journey.py -n {args.n}`

{table(rows, ["", "Go Ignition 2.14", "ours", "ours / Go"])}

The second boot runs nothing of either Ignition (only the subsequent-boot targets): the two should
match, and the difference between them is noise from the host. Host load (1-minute load average,
sampled before and after each boot): {' '.join(f'{x:.1f}' for x in loads)} on {facts['nproc']} CPUs; another
engineer's tests shared the machine.

Machine: nproc {facts['nproc']}; {facts['cpu']}; host kernel {facts['kernel']}; QEMU {accel}; run {facts['date']}.
"""
    print()
    print(md)
    if not args.no_doc and not bad:
        update_doc("boot-journey", md)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
