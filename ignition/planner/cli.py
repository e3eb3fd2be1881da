"""`ignition-plan CONFIG|-`: what a config would do to a described machine on
its first boot, planned on a laptop: no root, no device of the laptop opened,
nothing written outside a temp dir. Exit 0 the boot would succeed, 1 it would
fail (with the one line it would print), 2 usage."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ignition import __version__
from ignition.errors import ConfigError, UsageError
from ignition.log import StreamSink
from ignition.planner.sources import parse_size

EXIT_OK, EXIT_FAILS, EXIT_USAGE = 0, 1, 2


class _Quiet:
    """The stages' log goes nowhere unless --verbose: the plan is the output."""

    def emit(self, priority: int, message: str, fields: object) -> None:
        return None


def _disk(text: str) -> tuple[str, str]:
    device, sep, source = text.partition("=")
    if not sep or not device or not source:
        raise argparse.ArgumentTypeError(f"{text!r}: use DEVICE=IMAGE or DEVICE=blank:SIZE")
    return device, source


def _sector(text: str) -> tuple[str, int]:
    device, sep, size = text.partition("=")
    if not sep or not device or not size.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: use DEVICE=BYTES, e.g. /dev/vda=4096")
    return device, int(size)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ignition-plan", allow_abbrev=False,
        description="Show what an Ignition config would do to a machine on its first boot, "
                    "without root and without touching any disk of this machine.")
    p.add_argument("config", help="the config file (any spec 3.x or 2.x), or - for standard input")
    p.add_argument("--disk", action="append", type=_disk, default=[], metavar="DEVICE=SOURCE",
                   help="a device the config names, as an image file or blank:SIZE (e.g. /dev/vda=disk.img, "
                        "/dev/sdb=blank:4T); repeatable")
    p.add_argument("--sector-size", action="append", type=_sector, default=[], metavar="DEVICE=BYTES",
                   help="logical sector size of a --disk (default 512; 4096 for a 4Kn disk); repeatable")
    p.add_argument("--default-disk-size", default="100G", metavar="SIZE",
                   help="size of a blank disk planned for a device with no --disk (default 100G)")
    roots = p.add_mutually_exclusive_group()
    roots.add_argument("--root", metavar="DIR", help="the target root as an unpacked tree, read only "
                       "(default: the root partition of a --disk image, else an empty tree)")
    roots.add_argument("--root-device", metavar="SPEC", help="the OS's root as its root= names it (a /dev path, "
                       "LABEL=, UUID=, PARTLABEL=, PARTUUID=), read from its --disk image (default: the one "
                       "partition or filesystem labelled 'root')")
    p.add_argument("--offline", action="store_true", help="list remote resources instead of fetching them")
    p.add_argument("--json", action="store_true", help="print one JSON document (schema: docs/plan.md)")
    p.add_argument("--verbose", action="store_true", help="also print the stages' log on standard error")
    p.add_argument("--version", action="version", version=f"ignition-plan {__version__}")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    ns = _parser().parse_args(sys.argv[1:] if argv is None else argv)  # exits 2 on a usage error
    try:
        default_size = parse_size(ns.default_disk_size)
        if ns.config == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(ns.config, "rb") as f:
                raw = f.read()
    except UsageError as e:
        sys.stderr.write(f"ignition-plan: {e}\n")
        return EXIT_USAGE
    except OSError as e:
        sys.stderr.write(f"ignition-plan: reading {ns.config}: {e.strerror}\n")
        return EXIT_USAGE
    from ignition.planner import report, session, text

    opts = session.Options(ns.disk, default_size, ns.root, ns.offline, dict(ns.sector_size), ns.root_device)
    try:
        outcome = session.plan(raw, opts, StreamSink(sys.stderr) if ns.verbose else _Quiet())
    except UsageError as e:
        sys.stderr.write(f"ignition-plan: {e}\n")
        return EXIT_USAGE
    except ConfigError as e:
        return _invalid(e, ns.json)
    doc = report.build(outcome, "-" if ns.config == "-" else ns.config)
    sys.stdout.write(json.dumps(doc, indent=2) + "\n" if ns.json else text.render(doc))
    if outcome.error is not None and not ns.json:
        sys.stderr.write(f"ignition-plan: the boot would fail: {outcome.error}\n")
    return EXIT_OK if outcome.error is None else EXIT_FAILS


def _invalid(e: ConfigError, as_json: bool) -> int:
    """The validator's report, as ignition-validate prints it."""
    from ignition.config.report import Report

    rep = e.report if isinstance(e.report, Report) else Report()
    if not rep.entries:
        rep.add("error", str(e))
    if as_json:
        sys.stdout.write(json.dumps({"schemaVersion": 1, "result": {"ok": False, "exitCode": 1,
                                     "error": "the config is not valid", "report": json.loads(rep.to_json())}},
                                    indent=2) + "\n")
    else:
        sys.stdout.write(str(rep) + "\n")
        sys.stderr.write("ignition-plan: the config is not valid; the boot would fail\n")
    return EXIT_FAILS
