"""systemd units and dropins: names, contents, [Install] sections."""

from __future__ import annotations

import posixpath
import re

from ignition.config.report import Report
from ignition.config.types import Systemd, Unit
from ignition.config.validate.keys import Path, flag_duplicates
from ignition.config.validate.unitfile import UnitFile, UnitSyntaxError, parse_unit

UNIT_TYPES = (".service", ".socket", ".device", ".mount", ".automount", ".swap", ".target",
              ".path", ".timer", ".snapshot", ".slice", ".scope")
# what `systemctl enable` acts on; without one of these enabling a unit does nothing
INSTALL_KEYS = frozenset({"WantedBy", "RequiredBy", "UpheldBy", "Alias", "Also"})
_INSTANCE = re.compile(r"(.+?)@(.+?)\.service\Z")  # Ignition checks service instances only


def check_systemd(sd: Systemd, report: Report) -> None:
    for i, unit in enumerate(sd.units):
        _unit(report, unit, ("systemd", "units", i))
    flag_duplicates(report, ((u.name, ("systemd", "units", i), f"unit {u.name}")
                             for i, u in enumerate(sd.units)))
    _instances(report, sd)


def _installs(parsed: UnitFile) -> bool:
    return bool(parsed.section_names("Install") & INSTALL_KEYS)


def _instances(report: Report, sd: Systemd) -> None:
    """Enabling foo@bar.service enables the template foo@.service with an instance: the
    template written by the config needs the [Install] section."""
    contents = {u.name: u.contents for u in sd.units if u.contents}
    for i, unit in enumerate(sd.units):
        m = _INSTANCE.match(unit.name)
        if not m or not unit.enabled:
            continue
        template = f"{m.group(1)}@.service"
        if template not in contents:
            continue
        try:
            parsed = parse_unit(contents[template])
        except UnitSyntaxError:
            continue  # already reported on the template itself
        if not _installs(parsed):
            report.add("warning", f"template unit \"{template}\" for \"{unit.name}\" doesn't "
                       f"have Install section: add [Install] with WantedBy=... to {template}, "
                       "or enabling the instance does nothing", ("systemd", "units", i, "contents"))


def _file_name(report: Report, name: str, what: str, path: Path) -> None:
    """A unit or dropin name is one file name in a directory: a `/` would
    put it elsewhere (or nowhere systemd looks), a NUL byte is no name at all."""
    if "\0" in name:
        report.add("error", f"{what} name contains a NUL byte (\\u0000), which no file name can hold: "
                   "remove it", path)
    if "/" in name:
        report.add("error", f"{what} name contains '/': a {what} is one file in its directory, name it "
                   "without a directory part", path)


def _unit(report: Report, unit: Unit, entry: Path) -> None:
    _file_name(report, unit.name, "unit", entry + ("name",))
    base = posixpath.basename(unit.name)
    # Go's path.Ext: from the last dot on, so ".service" alone has the extension
    if ("." + base.rpartition(".")[2] if "." in base else "") not in UNIT_TYPES:
        report.add("error", f"invalid systemd unit extension: end the name in one of "
                   f"{' '.join(UNIT_TYPES)}", entry + ("name",))
    parsed = _contents(report, unit.contents, entry + ("contents",))
    if unit.enabled and unit.contents and parsed is not None and not _installs(parsed):
        report.add("warning", f"unit \"{unit.name}\" is enabled, but has no install section so "
                   "enable does nothing: add [Install] with WantedBy=multi-user.target (or "
                   "the target it belongs to)", entry + ("contents",))
    for j, dropin in enumerate(unit.dropins):
        dpath = entry + ("dropins", j)
        _file_name(report, dropin.name, "dropin", dpath + ("name",))
        if not dropin.name.endswith(".conf"):
            report.add("error", "invalid systemd drop-in extension: name the dropin "
                       "<something>.conf", dpath + ("name",))
        _contents(report, dropin.contents, dpath + ("contents",))
    flag_duplicates(report, ((d.name, entry + ("dropins", j), f"dropin {d.name}")
                             for j, d in enumerate(unit.dropins)))


def _contents(report: Report, contents: str | None, path: Path) -> UnitFile | None:
    if contents is None:
        return None
    try:
        parsed = parse_unit(contents)
    except UnitSyntaxError as e:
        report.add("error", f"invalid unit content: {e}", path)
        return None
    if parsed.stray_lines:
        lines = ", ".join(map(str, parsed.stray_lines))
        report.add("warning", f"unit content has text before the first section (line {lines}), "
                   "which systemd ignores: move it under a [Section] header", path)
    return parsed
