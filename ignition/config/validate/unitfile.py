"""A small parser for systemd unit files, as strict as the one Ignition uses (go-systemd's
`unit.Deserialize`) where that one fails, so a config Ignition accepts is accepted here."""

from __future__ import annotations

from ignition.record import record


class UnitSyntaxError(ValueError):
    """The contents cannot be read as a unit file; the text says where and what to change."""


@record(kw_only=False, slots=False)
class Option:
    """One `Name=value` line of a unit file, with its section."""

    section: str
    name: str
    value: str


@record(kw_only=False, slots=False)
class UnitFile:
    """A systemd unit file as its options, for the checks Ignition makes on units."""

    options: tuple[Option, ...]
    # lines before the first [Section]: systemd ignores them ("assignment outside of section"),
    # go-systemd too; worth a warning, not a failure
    stray_lines: tuple[int, ...]

    def section_names(self, section: str) -> set[str]:
        return {o.name for o in self.options if o.section == section}


def parse_unit(text: str) -> UnitFile:
    lines = text.replace("\r\n", "\n").split("\n")
    options: list[Option] = []
    stray: list[int] = []
    section: str | None = None
    i = 0
    while i < len(lines):
        lineno, line = i + 1, lines[i].strip()
        i += 1
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            close = line.find("]")
            if close < 0:
                raise UnitSyntaxError(f"unable to find end of section on line {lineno}: close "
                                      "the section name with ]")
            if line[close + 1:].strip():
                raise UnitSyntaxError(f"found garbage after section name on line {lineno}: "
                                      "put nothing after ] on that line")
            section = line[1:close]
            continue
        value_lines = [line]
        # a trailing backslash continues the value on the next line
        while value_lines[-1].endswith("\\") and i < len(lines):
            value_lines[-1] = value_lines[-1][:-1]
            value_lines.append(lines[i].strip())
            i += 1
        if section is None:
            stray.append(lineno)
            continue
        name, sep, value = " ".join(value_lines).partition("=")
        if not sep:
            raise UnitSyntaxError(f"expected Key=Value on line {lineno}, found {line[:40]!r}: "
                                  "add '=' or comment the line out with #")
        options.append(Option(section, name.strip(), value.strip().removesuffix("\\")))
    return UnitFile(tuple(options), tuple(stray))
