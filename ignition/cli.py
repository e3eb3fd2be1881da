"""Command lines: `ignition`, flag-compatible with Ignition 2.x so a distro's
existing units call it unchanged, and `ignition-validate`.

Go's flag package accepts `-flag value`, `-flag=value`, `--flag value` and
`--flag=value`, and booleans as `-flag` or `-flag=true|false`; so do we.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from ignition import __version__, startup
from ignition.exits import EXIT_OK, EXIT_USAGE

# Start-up is paid by every stage (a new process each): this module imports only
# what parsing the flags needs; the engine and the stage code load in main(),
# once the flags are known to be good.

_DURATION_PART = r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)"
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """A Go duration (`2m`, `1h30m`, `500ms`, `0`) in seconds."""
    s = text.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    if s == "0":
        return 0.0
    import re  # only -fetch-timeout needs it

    total, pos = 0.0, 0
    for m in re.finditer(_DURATION_PART, s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s):
        raise ValueError("not a duration (use e.g. 2m, 90s, 1h30m)")
    return sign * total


class CommandLine:
    """The flags of `ignition`, with Ignition's defaults. (A plain class: the
    dataclass machinery is a measurable part of a stage's start-up.)"""

    def __init__(self) -> None:
        from ignition.paths import Paths  # not at import: see main()

        self.help = False
        self.platform = ""
        self.stage = ""
        self.root = "/"
        self.config_cache = Paths.config_cache
        self.state_file = Paths.state_file
        self.neednet = Paths.neednet
        self.fetch_timeout = 120.0
        self.log_to_stdout = False
        self.version = False
        self.dry_run = False
        self.json = False

    def __repr__(self) -> str:
        return f"CommandLine({vars(self)!r})"


# Flag name -> converter of its value; booleans take no separate value.
_VALUE_FLAGS: dict[str, Callable[[str], Any]] = {
    "platform": str, "stage": str, "root": str, "config-cache": str, "state-file": str, "neednet": str,
    "fetch-timeout": parse_duration,
}
_BOOL_FLAGS = frozenset({"help", "h", "log-to-stdout", "version", "dry-run", "json"})


def usage_error(message: str) -> NoReturn:
    sys.stderr.write(f"ignition: {message}\nRun 'ignition -help' for the flags.\n")
    raise SystemExit(EXIT_USAGE)


def _help_text() -> str:
    from ignition import registry
    from ignition.errors import IgnitionError

    try:
        stages = ", ".join(registry.stages().names())
    except IgnitionError as e:
        stages = f"(none: {e})"
    try:
        platforms = ", ".join(registry.providers().names())
    except IgnitionError as e:
        platforms = f"(none: {e})"
    return (
        "usage: ignition -platform PLATFORM -stage STAGE [flags]\n\n"
        "Provisions a machine on its first boot from an Ignition config.\n\n"
        "flags (one or two dashes; -flag value or -flag=value):\n"
        "  -platform NAME        where the machine's config comes from\n"
        "  -stage NAME           the stage to run\n"
        "  -root DIR             the target root (default /; the initramfs units pass /sysroot)\n"
        "  -config-cache FILE    rendered config shared by the stages (default /run/ignition.json)\n"
        "  -state-file FILE      state shared by the stages (default /run/ignition/state)\n"
        "  -neednet FILE         flag written when the network is needed (default /run/ignition/neednet)\n"
        "  -fetch-timeout DUR    how long to wait for the platform's config (default 2m0s)\n"
        "  -log-to-stdout        log to stdout instead of the journal\n"
        "  -version              print the version and exit\n"
        "  --dry-run             change nothing; print what the stage would do\n"
        "  --json                with --dry-run, print the plan as JSON lines\n\n"
        f"stages: {stages}\n"
        f"platforms: {platforms}\n"
    )


def parse_args(argv: Sequence[str]) -> CommandLine:
    """Go's flag package rules: `-name`, `--name`, `-name=value`, `-name value`
    (not for booleans, whose value only follows `=`); no abbreviations; `--`
    ends the flags. ignition takes no other arguments. (Hand-written rather
    than argparse: every stage is a new process, and argparse's import is a
    measurable part of its start-up on a slow machine.)"""
    cl = CommandLine()
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--" or not arg.startswith("-") or arg == "-":
            rest = args[i:] if arg == "--" else args[i - 1:]
            if rest:
                usage_error(f"unexpected argument{'s' if len(rest) > 1 else ''}: {' '.join(rest)}")
            break
        body = arg[2:] if arg.startswith("--") else arg[1:]
        name, has_value, value = body.partition("=")
        if not name or name[0] in "-=":
            usage_error(f"bad flag syntax: {arg}")
        attr = "help" if name == "h" else name.replace("-", "_")
        if name in _BOOL_FLAGS:
            if not has_value or value in ("1", "t", "T", "true", "TRUE", "True"):  # strconv.ParseBool's
                setattr(cl, attr, True)
            elif value in ("0", "f", "F", "false", "FALSE", "False"):
                setattr(cl, attr, False)
            else:
                usage_error(f"invalid boolean value {value!r} for -{name}")
            continue
        convert = _VALUE_FLAGS.get(name)
        if convert is None:
            usage_error(f"flag provided but not defined: -{name}")
        if not has_value:
            if i >= len(args):
                usage_error(f"flag needs an argument: -{name}")
            value = args[i]
            i += 1
        try:
            setattr(cl, attr, convert(value))
        except ValueError as e:
            usage_error(f"invalid value {value!r} for flag -{name}: {e}")
    return cl


def target_root(flag: str) -> str:
    """The root a -root value names. Go's flag accepts any string, and Ignition
    joins config paths onto it: an empty root is the host's /, a relative one is
    taken from the working directory. Distros and Ignition's own test harness
    pass `-root ""` to the stages that never use it (fetch, disks)."""
    import os

    return os.path.abspath(flag) if flag else "/"


def main(argv: Sequence[str] | None = None) -> int:
    if argv is not None:  # called in a longer-lived process: its collector is its own
        return _main(argv)
    running = startup.pause()  # until engine.run has set up the stage (see startup.py)
    startup.defer()  # before anything imports dataclasses or urllib.parse (see startup.py)
    try:
        return _main(argv)
    finally:
        startup.restore(running)


def _main(argv: Sequence[str] | None) -> int:
    ns = parse_args(sys.argv[1:] if argv is None else argv)
    if ns.help:
        sys.stdout.write(_help_text())
        return EXIT_OK
    if ns.version:
        sys.stdout.write(f"Ignition {__version__} (Python; config specs 3.0.0 to 3.6.0)\n")
        return EXIT_OK
    for flag in ("platform", "stage"):
        if not getattr(ns, flag):
            sys.stderr.write(f"ignition: '--{flag}' must be provided\nRun 'ignition -help' for the flags.\n")
            return EXIT_USAGE
    from ignition import engine
    from ignition.paths import Paths

    opts = engine.Options(
        platform=ns.platform,
        stage=ns.stage,
        root=target_root(ns.root),
        paths=Paths(ns.config_cache, ns.state_file, ns.neednet),
        fetch_timeout=ns.fetch_timeout,
        log_to_stdout=ns.log_to_stdout,
        dry_run=ns.dry_run,
        plan_json=ns.json,
    )
    return engine.run(opts)


def _help_formatter(prog: str) -> Any:
    """argparse's formatter at the terminal's width, found as shutil finds it but
    without importing shutil (with bz2 and lzma: ~4 ms of every start, since
    argparse makes a formatter for each argument added)."""
    import argparse
    import os

    try:
        width = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        width = 0
    if width <= 0:
        try:
            width = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
        except (AttributeError, ValueError, OSError):
            width = 0
    return argparse.HelpFormatter(prog, width=(width or 80) - 2)


def validate_main(argv: Sequence[str] | None = None) -> int:
    """`ignition-validate FILE|-`: print the report; exit 1 on any error."""
    import argparse

    running = startup.pause() if argv is None else None  # a new process: see startup.py
    if argv is None:
        startup.defer()  # before anything imports dataclasses or urllib.parse (see startup.py)
    try:
        from ignition.config.parse import parse
        from ignition.errors import ConfigError
    finally:
        if running is not None:
            startup.work_begins()
            startup.restore(running)

    p = argparse.ArgumentParser(prog="ignition-validate", allow_abbrev=False,
                                description="Validate an Ignition config without applying it.",
                                formatter_class=_help_formatter)
    p.add_argument("config", help="the config file, or - for standard input")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("-version", "--version", action="version",
                   version=f"ignition-validate {__version__} (config specs 3.0.0 to 3.6.0)")
    ns = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if ns.config == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(ns.config, "rb") as f:
                raw = f.read()
    except OSError as e:
        sys.stderr.write(f"ignition-validate: reading {ns.config}: {e.strerror}\n")
        return 1
    try:
        report = parse(raw).report
        failed = False
    except ConfigError as e:
        from ignition.config.report import Report

        report = e.report if isinstance(e.report, Report) else Report()
        if not report.entries:
            report.add("error", str(e))
        failed = True
    if ns.json:
        sys.stdout.write(report.to_json() + "\n")
    elif report.entries:
        sys.stdout.write(str(report) + "\n")
    return 1 if failed else 0
