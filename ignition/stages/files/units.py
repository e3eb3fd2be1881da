"""systemd units, dropins, masks and presets in the target.

Enablement goes through a preset file, as Ignition does it: systemd applies
presets on the machine's first boot (when /etc/machine-id is absent), so the
unit is enabled by the target's own systemd with its own knowledge of the
unit's [Install] section.
"""

from __future__ import annotations

import os

from ignition import distro
from ignition.config.types import Unit
from ignition.context import StageContext
from ignition.errors import CommandError, StageError

UNITS_DIR = "/etc/systemd/system"
PRESET_PATH = "/etc/systemd/system-preset/20-ignition.preset"
UNIT_MODE = 0o644


def _template(name: str) -> tuple[str, str] | None:
    """(`foo@.service`, `bar`) for an instance `foo@bar.service`."""
    at, dot = name.find("@"), name.rfind(".")
    if at == -1 or dot < at:
        return None
    return name[: at + 1] + name[dot:], name[at + 1 : dot]


def _write_unit_files(ctx: StageContext, unit: Unit) -> list[str]:
    written: list[str] = []
    for dropin in unit.dropins:
        if dropin.contents is None:
            continue  # a dropin without contents is only a name: nothing to write
        path = f"{UNITS_DIR}/{unit.name}.d/{dropin.name}"
        with ctx.logger.op(f"writing systemd drop-in {dropin.name!r} at {path!r}"):
            ctx.root.write_file(path, dropin.contents.encode(), UNIT_MODE)
        written.append(path)
    if unit.contents:
        path = f"{UNITS_DIR}/{unit.name}"
        with ctx.logger.op(f"writing unit {unit.name!r} at {path!r}"):
            ctx.root.write_file(path, unit.contents.encode(), UNIT_MODE)
        written.append(path)
    return written


def _mask(ctx: StageContext, unit: Unit) -> None:
    path = f"{UNITS_DIR}/{unit.name}"
    if unit.mask:
        with ctx.logger.op(f"masking unit {unit.name!r}"):
            if ctx.root.kind(path) is not None:
                ctx.root.remove_all(path)
            ctx.root.symlink(path, "/dev/null")
    elif unit.mask is False and ctx.root.kind(path) == "link" and ctx.root.readlink(path) == "/dev/null":
        with ctx.logger.op(f"unmasking unit {unit.name!r}"):
            ctx.root.remove_all(path)


def _is_enabled(ctx: StageContext, name: str) -> bool:
    try:
        ctx.run.run([distro.tool("systemctl"), f"--root={ctx.root.root}", "is-enabled", name], probe=True)
    except CommandError:
        return False
    return True


def _preset_lines(ctx: StageContext) -> list[str]:
    enable: dict[str, list[str]] = {}
    disable: dict[str, list[str]] = {}
    for unit in ctx.config.systemd.units:
        if unit.enabled is None:
            continue
        if not unit.enabled:
            # Only a unit that is enabled needs disabling; a disable line for
            # any other would be noise that overrides the distro's presets.
            if not _is_enabled(ctx, unit.name):
                continue
            with ctx.logger.op(f"disabling unit {unit.name!r}"):
                ctx.run.run([distro.tool("systemctl"), f"--root={ctx.root.root}", "disable", unit.name])
        table = enable if unit.enabled else disable
        inst = _template(unit.name)
        if inst is None:
            table.setdefault(unit.name, [])
        else:
            table.setdefault(inst[0], []).append(inst[1])
    lines = [" ".join(["enable", u, *i]) for u, i in enable.items()]
    lines += [" ".join(["disable", u, *i]) for u, i in disable.items()]
    return sorted(lines)


def apply_units(ctx: StageContext) -> list[str]:
    """Write units and dropins, mask and unmask, write presets; returns the
    paths to relabel."""
    relabel: list[str] = []
    for i, unit in enumerate(ctx.config.systemd.units):
        try:
            relabel += _write_unit_files(ctx, unit)
            _mask(ctx, unit)
        except OSError as e:
            raise StageError(f"systemd.units.{i} ({unit.name}): writing the unit: {e.strerror or e}") from e
    lines = _preset_lines(ctx)
    if lines:
        with ctx.logger.op(f"writing presets to {PRESET_PATH}"):
            old = ctx.root.read_bytes(PRESET_PATH) or b""
            if old and not old.endswith(b"\n"):
                old += b"\n"
            try:
                ctx.root.write_file(PRESET_PATH, old + "".join(f"{line}\n" for line in lines).encode(), 0o644)
            except OSError as e:  # e.g. the config replaced a directory on the way with a file
                raise StageError(f"writing presets to {PRESET_PATH}: {e.strerror or e}") from e
        relabel.append(os.path.dirname(PRESET_PATH))
    for unit in ctx.config.systemd.units:
        if unit.enabled and _template(unit.name) is None and not unit.contents and \
                ctx.root.kind(f"{UNITS_DIR}/{unit.name}") is None:
            ctx.logger.info(f"unit {unit.name!r} is enabled by preset but has no contents here; "
                            "it must be shipped by the distribution")
    return relabel
