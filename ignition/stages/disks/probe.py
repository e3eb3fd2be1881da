"""One read-only probe of every device the config names, before any plan."""

from __future__ import annotations

import json

from ignition import distro
from ignition.config.types import Config
from ignition.errors import StageError
from ignition.run import Runner
from ignition.stages.disks.aliases import DeviceAliases
from ignition.stages.disks.model import DiskState, FsInfo, Signature


def probe_disks(config: Config, aliases: DeviceAliases) -> dict[str, DiskState]:
    """Config device path -> what its GPT says. Each disk is resolved once,
    through its alias: later writes go to this node even if a by-* link moves."""
    out: dict[str, DiskState] = {}
    for disk in config.storage.disks:
        try:
            node = aliases.node(disk.device)
        except StageError as e:
            raise StageError(f"{e}; check the disk's device path") from e
        try:
            out[disk.device] = aliases.machine.read_disk(node)
        except OSError as e:
            raise StageError(f"reading the partition table of {disk.device}: {e.strerror or e}; "
                             "check the disk's device path") from e
    return out


def parse_export(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


BLKID_AMBIVALENT = 8  # blkid's exit status when the low-level probe finds several signatures


def probe_filesystem(run: Runner, device: str, region: tuple[str, int, int] | None = None) -> FsInfo:
    """blkid's low-level probe (no cache): the signature really on the device.
    `region` (file, offset, size in bytes) probes those bytes of an image file
    instead, as the device `device` will show them (ignition-plan)."""
    where = [device] if region is None else ["-O", str(region[1]), "-S", str(region[2]), region[0]]
    res = run.run([distro.tool("blkid"), "-p", "-o", "export", *where], probe=True, check=False)
    if res.returncode == 2:
        return FsInfo()
    err = res.stderr.decode("utf-8", "replace")
    if res.returncode == BLKID_AMBIVALENT or "ambivalent" in err:
        sigs = list_signatures(run, device) if region is None else region_signatures(run, region)
        return FsInfo(ambivalent=True, signatures=sigs)
    if res.returncode != 0:
        raise StageError(f"probing {device} with blkid: exit status {res.returncode}: {err.strip()}")
    kv = parse_export(res.stdout.decode("utf-8", "replace"))
    # A partition table is not a filesystem: a disk with one counts as "has something".
    kind = kv.get("TYPE", "") or ("partition table " + kv["PTTYPE"] if "PTTYPE" in kv else "")
    return FsInfo(kind, kv.get("LABEL", ""), kv.get("UUID", ""))


# The formats the disks stage makes: what a config can ask to reuse.
MAKEABLE = ("ext4", "xfs", "btrfs", "vfat", "swap")


def region_signatures(run: Runner, region: tuple[str, int, int]) -> tuple[Signature, ...]:
    """The signatures of those formats in a region of an image file, each probed on its
    own (`blkid -n TYPE`; wipefs cannot look at a region), offsets unknown. What else
    is there stays unlisted, which is all the reuse decision needs."""
    out = []
    for kind in MAKEABLE:
        res = run.run([distro.tool("blkid"), "-p", "-n", kind, "-o", "export", "-O", str(region[1]), "-S",
                       str(region[2]), region[0]], probe=True, check=False)
        kv = parse_export(res.stdout.decode("utf-8", "replace")) if res.returncode == 0 else {}
        if kv.get("TYPE"):
            out.append(Signature(kv["TYPE"], "", kv.get("LABEL", ""), kv.get("UUID", "")))
    return tuple(out)


def list_signatures(run: Runner, device: str) -> tuple[Signature, ...]:
    """Every signature on `device` with its label and UUID, as `wipefs` (without
    -a: it only lists) sees them; () if it cannot tell."""
    res = run.run([distro.tool("wipefs"), "--json", device], probe=True, check=False)
    return parse_wipefs(res.stdout.decode("utf-8", "replace")) if res.returncode == 0 else ()


def parse_wipefs(text: str) -> tuple[Signature, ...]:
    try:
        sigs = json.loads(text).get("signatures", []) if text.strip() else []
        return tuple(Signature(str(s.get("type") or ""), str(s.get("offset", "?")), str(s.get("label") or ""),
                               str(s.get("uuid") or "")) for s in sigs)
    except (ValueError, AttributeError):
        return ()
