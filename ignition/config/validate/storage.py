"""Files, directories, links, filesystems and RAID arrays."""

from __future__ import annotations

from ignition.config.report import Report
from ignition.config.types import Config, Filesystem, Node, Raid, Storage
from ignition.config.validate.keys import Path, flag_duplicates
from ignition.config.validate.paths import check_path, path_problem
from ignition.config.validate.resources import check_resource

FORMATS = ("ext4", "btrfs", "xfs", "vfat", "swap", "none")
LABEL_LIMITS = {"ext4": 16, "btrfs": 256, "xfs": 12, "swap": 15, "vfat": 11}
RAID_LEVELS = ("linear", "raid0", "0", "stripe", "raid1", "1", "mirror", "raid4", "4",
               "raid5", "5", "raid6", "6", "raid10", "10")
_NO_SPARES = ("linear", "raid0", "0", "stripe")


def _not_the_root(report: Report, path: str | None, what: str, entry: Path) -> None:
    # Replacing the target's root itself can only destroy it (Ignition would remove the
    # whole root before writing); nothing at "/" can be what the config means.
    if path is not None and path.strip("/") == "" and path.startswith("/"):
        report.add("error", f"{what} cannot be at / (the target's root itself): give it a path below /",
                   entry + ("path",))


def check_nodes_attrs(config: Config, report: Report, minor: int) -> None:
    st = config.storage
    for i, f in enumerate(st.files):
        entry: Path = ("storage", "files", i)
        _not_the_root(report, f.path, "a file", entry)
        _owner(report, f, entry)
        _mode(report, f.mode, entry)
        if f.overwrite and f.contents.source is None:
            report.add("error", "overwrite must be false if source is unspecified: set "
                       "contents.source or drop overwrite", entry + ("overwrite",))
        check_resource(report, f.contents, entry + ("contents",), minor)
        for j, res in enumerate(f.append):
            check_resource(report, res, entry + ("append", j), minor)
    for i, d in enumerate(st.directories):
        if d.overwrite:
            _not_the_root(report, d.path, "a directory with overwrite: true (it would be emptied)",
                          ("storage", "directories", i))
        _owner(report, d, ("storage", "directories", i))
        _mode(report, d.mode, ("storage", "directories", i))
    directories = {d.path for d in st.directories}
    for i, link in enumerate(st.links):
        entry = ("storage", "links", i)
        _not_the_root(report, link.path, "a link", entry)
        _owner(report, link, entry)
        if not link.target:
            report.add("error", "link target is required: set target to the path the link "
                       "points to", entry + ("target",))
        if not link.hard:
            continue
        if link.target in directories:
            report.add("error", "hard link target is a directory: hard links can only point to "
                       "files; make it a symlink (hard: false)", entry)
        for who, owner in (("user", link.user), ("group", link.group)):
            for attr in ("id", "name"):
                if getattr(owner, attr) is not None:
                    report.add("warning", f"hard link cannot have a {who}: a hard link shares "
                               f"its target's owner; remove {who}.{attr}", entry + (who, attr))


def _owner(report: Report, node: Node, entry: Path) -> None:
    for who, owner in (("user", node.user), ("group", node.group)):
        if owner.id is not None and owner.name:
            report.add("error", f"cannot set both id and name: keep either {who}.id or "
                       f"{who}.name", entry + (who,))


def _mode(report: Report, mode: int | None, entry: Path) -> None:
    if mode is not None and not 0 <= mode <= 0o7777:
        report.add("error", f"illegal file mode {mode}: use a value from 0 to 4095 (octal 07777); "
                   "JSON has no octal, so 0644 is written 420", entry + ("mode",))


def check_filesystems(st: Storage, report: Report, minor: int) -> None:
    disks = {d.device: d for d in st.disks}
    for i, fs in enumerate(st.filesystems):
        entry: Path = ("storage", "filesystems", i)
        problem = path_problem(fs.device)
        if problem:
            report.add("error", problem, entry + ("device",))
        if fs.path:  # "" means no mount point, as in Ignition
            check_path(report, fs.path, entry + ("path",))
        _format(report, fs, entry, minor)
        disk = disks.get(fs.device)
        if disk is not None and disk.partitions:
            report.add("warning", "filesystem overwrites partitioned device: the disk's partitions "
                       "would be lost; put the filesystem on a partition (e.g. "
                       "/dev/disk/by-partlabel/<label>)", entry + ("device",))
        elif disk is not None and disk.wipe_table and not fs.wipe_filesystem:
            report.add("warning", "device matches disk with wipeTable enabled; filesystem will "
                       "be wiped: set wipeFilesystem to true to say so", entry + ("device",))
    flag_duplicates(report, ((fs.device, ("storage", "filesystems", i), f"device {fs.device}")
                             for i, fs in enumerate(st.filesystems)))


def _format(report: Report, fs: Filesystem, entry: Path, minor: int) -> None:
    fmt = fs.format
    allowed = ", ".join(FORMATS if minor >= 3 else FORMATS[:-1])
    if not fmt:
        if (fs.path or fs.label or fs.uuid or fs.wipe_filesystem or fs.options
                or fs.mount_options):
            report.add("error", "format cannot be empty when path, label, uuid, wipeFilesystem, "
                       f"options, or mountOptions is specified: set format to one of {allowed}",
                       entry + ("format",))
    elif fmt not in FORMATS or (fmt == "none" and minor < 3):
        hint = " (none needs spec 3.3.0 or later)" if fmt == "none" else ""
        report.add("error", f"invalid filesystem format {fmt!r}: use one of {allowed}{hint}",
                   entry + ("format",))
    if not fs.label:
        return
    if not fmt:
        report.add("error", "filesystem must specify format if label is specified: set format",
                   entry + ("label",))
    elif fmt in LABEL_LIMITS and len(fs.label) > LABEL_LIMITS[fmt]:
        report.add("error", f"filesystem labels cannot be longer than {LABEL_LIMITS[fmt]} "
                   f"characters when using {fmt}: shorten the label", entry + ("label",))


def check_raid(st: Storage, report: Report) -> None:
    for i, raid in enumerate(st.raid):
        entry: Path = ("storage", "raid", i)
        _level(report, raid, entry)
        if not raid.devices:
            report.add("error", "raid devices required: list the member devices in devices",
                       entry + ("devices",))
        for j, dev in enumerate(raid.devices):
            check_path(report, dev, entry + ("devices", j))
        flag_duplicates(report, ((d, entry + ("devices", j), f"device {d}")
                                 for j, d in enumerate(raid.devices)))
    flag_duplicates(report, ((r.name, ("storage", "raid", i), f"array {r.name}")
                             for i, r in enumerate(st.raid)))


def _level(report: Report, raid: Raid, entry: Path) -> None:
    if not raid.level:
        report.add("error", f"raid level is required: set level to one of {', '.join(RAID_LEVELS)}",
                   entry + ("level",))
    elif raid.level not in RAID_LEVELS:
        report.add("error", f"unrecognized raid level {raid.level!r}: use one of "
                   f"{', '.join(RAID_LEVELS)}", entry + ("level",))
    elif raid.level in _NO_SPARES and raid.spares:
        report.add("error", "spares unsupported for linear and raid0 arrays: remove spares or "
                   "use a redundant level such as raid1", entry + ("level",))
