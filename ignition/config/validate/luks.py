"""LUKS volumes, Clevis bindings and IBM Crypto Express keys."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from ignition.config.report import Report
from ignition.config.types import Clevis, Luks, Storage
from ignition.config.validate.keys import Path, flag_duplicates
from ignition.config.validate.paths import path_problem
from ignition.config.validate.resources import check_resource

MAX_LABEL = 47
_OLD_PINS = ("tpm2", "tang", "sss")  # before spec 3.6 a custom pin had to be one of these


def check_luks(st: Storage, report: Report, minor: int) -> None:
    for i, luks in enumerate(st.luks):
        _luks(report, luks, ("storage", "luks", i), minor)
    flag_duplicates(report, ((v.name, ("storage", "luks", i), f"volume {v.name}")
                             for i, v in enumerate(st.luks)))


def _luks(report: Report, luks: Luks, entry: Path, minor: int) -> None:
    if "/" in luks.name:
        report.add("error", "device names cannot contain slashes: the name becomes "
                   "/dev/mapper/<name>; remove '/'", entry + ("name",))
    if luks.label is not None and len(luks.label) > MAX_LABEL:
        report.add("error", f"luks device labels cannot be longer than {MAX_LABEL} characters: "
                   "shorten the label", entry + ("label",))
    if not luks.device:
        report.add("error", "disk device is required: set device to the volume's block device",
                   entry + ("device",))
    else:
        problem = path_problem(luks.device)
        if problem:
            report.add("error", problem, entry + ("device",))
    check_resource(report, luks.key_file, entry + ("keyFile",), minor)
    _clevis(report, luks.clevis, entry + ("clevis",), minor)
    if luks.cex.enabled:
        if _clevis_used(luks.clevis):
            report.add("error", "cannot use cex with clevis: remove clevis or disable cex",
                       entry + ("cex",))
        if luks.key_file.source:
            report.add("error", "cannot use cex with a key file: remove keyFile or disable cex",
                       entry + ("cex",))


def _clevis_used(c: Clevis) -> bool:
    custom = c.custom
    return bool(c.tang or c.tpm2 or c.threshold or custom.pin or custom.config
                or custom.needs_network)


def _clevis(report: Report, c: Clevis, path: Path, minor: int) -> None:
    custom = c.custom
    if custom.pin or custom.config or custom.needs_network:
        if custom.pin and (c.tang or c.tpm2 or c.threshold):
            report.add("error", "cannot use custom clevis config with tpm2, tang, or threshold: "
                       "remove custom or the others", path)
        cpath = path + ("custom",)
        if not custom.pin:
            report.add("error", "missing required custom clevis pin: set custom.pin",
                       cpath + ("pin",))
        elif minor < 6 and custom.pin not in _OLD_PINS:
            report.add("error", f"unsupported clevis pin {custom.pin!r}: use tpm2, tang or sss "
                       "(other pins need spec 3.6.0)", cpath + ("pin",))
        if not custom.config:
            report.add("error", "missing required custom clevis config: set custom.config",
                       cpath + ("config",))
    for j, tang in enumerate(c.tang):
        tpath = path + ("tang", j)
        try:
            scheme = urlsplit(tang.url or "").scheme
        except ValueError:
            scheme = ""
        if scheme not in ("http", "https"):
            report.add("error", "invalid url scheme: a tang url must be http:// or https://",
                       tpath + ("url",))
        if not tang.thumbprint:
            report.add("error", "thumbprint is required: set it to the server's key thumbprint "
                       "(clevis-encrypt-tang prints it)", tpath + ("thumbprint",))
        if tang.advertisement:
            try:
                json.loads(tang.advertisement)
            except json.JSONDecodeError as e:
                report.add("error", f"advertisement is not valid JSON ({e.msg}): paste the "
                           "server's /adv response as it is", tpath + ("advertisement",))
    flag_duplicates(report, ((t.url or "", path + ("tang", j), f"tang server {t.url}")
                             for j, t in enumerate(c.tang)))
