"""LUKS2 volumes with cryptsetup (and clevis), as Ignition makes them
(inventory 4.5).

Keys never reach a log or the plan: cryptsetup reads them from a 0400 file in
the private state directory under /run, removed as soon as the volume is done.
A key the files stage must persist (non-clevis volumes) travels in the state
file as a base64 data URL, which that stage deletes after writing it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

from ignition import distro
from ignition.config.types import Clevis, Luks
from ignition.context import StageContext
from ignition.errors import CommandError, IgnitionError, StageError
from ignition.record import record
from ignition.tmpfile import mkstemp

# The kernel's own registration of device-mapper. Not /dev/mapper/control:
# libdevmapper creates that node by itself when it is missing, driver or not.
DM_REGISTERED = "/sys/class/misc/device-mapper"
DM_CRYPT_LOADED = "/sys/module/dm_crypt"


def require_dm(ctx: StageContext) -> None:
    """device-mapper (and dm-crypt), loaded if needed, before any disk is written."""
    if not os.path.exists(DM_CRYPT_LOADED):
        ctx.run.run([distro.tool("modprobe"), "dm_crypt"], probe=True, check=False)
    if not os.path.exists(DM_REGISTERED):
        raise StageError("storage.luks needs the kernel's device-mapper (dm_crypt), and this kernel has none "
                         f"({DM_REGISTERED} is missing, modprobe dm_crypt failed); no disk was touched")


@record(kw_only=False, slots=False)
class LuksKey:
    """The key of one LUKS volume: from its keyFile or generated here."""

    luks: Luks
    key: bytes = b""  # empty in a dry run when the key would be generated
    generated: bool = False

    def __repr__(self) -> str:  # never the key, whatever prints this
        return f"LuksKey({self.luks.name!r}, generated={self.generated})"


def mapper_path(luks: Luks) -> str:
    return "/dev/mapper/" + luks.name


def has_clevis(c: Clevis) -> bool:
    return bool(c.tang or c.tpm2 or c.custom.pin)


def needs_network(c: Clevis) -> bool:
    return bool(c.tang) or bool(c.custom.pin and c.custom.needs_network)


def clevis_pin(c: Clevis) -> tuple[str, str]:
    """Pin and config for `clevis luks bind`: Ignition's sss for tang/tpm2, the
    custom pin and config verbatim otherwise."""
    if c.tang or c.tpm2:
        pins: dict[str, Any] = {}
        if c.tang:
            tangs = []
            for t in c.tang:
                entry: dict[str, Any] = {"url": t.url}
                if t.thumbprint:
                    entry["thp"] = t.thumbprint
                if t.advertisement:
                    entry["adv"] = json.loads(t.advertisement)
                tangs.append(entry)
            pins["tang"] = tangs
        if c.tpm2:
            pins["tpm2"] = {}
        return "sss", json.dumps({"t": c.threshold or 1, "pins": pins}, separators=(",", ":"))
    return c.custom.pin or "", c.custom.config or ""


def prepare_keys(ctx: StageContext) -> list[LuksKey]:
    """Everything about the volumes that can fail without a device: unsupported
    features, missing tools, the key files' fetches. Runs before any write."""
    out: list[LuksKey] = []
    for luks in ctx.config.storage.luks:
        if luks.cex.enabled:
            raise StageError(f"LUKS volume {luks.name}: cex is not available in this build (needs IBM Crypto "
                             "Express and zkey); use a keyFile or clevis instead")
        if not luks.device:
            raise StageError(f"LUKS volume {luks.name}: no device; set its `device`")
        if has_clevis(luks.clevis):
            if not ctx.machine.has_program(distro.tool("clevis")):
                raise StageError(f"LUKS volume {luks.name}: clevis bindings need the clevis tools in the "
                                 f"initramfs ({distro.tool('clevis')} is not on PATH)")
            if luks.clevis.custom.pin and (luks.clevis.tang or luks.clevis.tpm2):
                raise StageError(f"LUKS volume {luks.name}: clevis custom cannot be combined with tang or tpm2")
            for t in luks.clevis.tang:
                if t.advertisement:
                    try:
                        json.loads(t.advertisement)
                    except ValueError as e:
                        raise StageError(f"LUKS volume {luks.name}: the tang advertisement for {t.url} is not "
                                         f"JSON ({e})") from e
        if luks.key_file.source is not None:
            try:
                key = ctx.fetcher.fetch_resource(luks.key_file)
            except IgnitionError as e:
                raise StageError(f"fetching the key file of LUKS volume {luks.name}: {e}") from e
            out.append(LuksKey(luks, key))
        elif ctx.plan is not None:
            out.append(LuksKey(luks, b"", True))
        else:
            out.append(LuksKey(luks, secrets.token_bytes(4096).hex().encode(), True))
    return out


@contextlib.contextmanager
def key_file(ctx: StageContext, lk: LuksKey) -> Iterator[str]:
    """The key as a 0400 file under /run (the state's private directory);
    a dry run names a file it never writes."""
    directory = ctx.paths.run_dir
    if ctx.plan is not None:
        yield os.path.join(directory, f"luks-{lk.luks.name}.key")
        return
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, path = mkstemp(directory)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o400)
            f.write(lk.key)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _luks_dump_flags(ctx: StageContext, node: str) -> set[str]:
    res = ctx.run.run([distro.tool("cryptsetup"), "luksDump", node], probe=True, check=False)
    for line in res.stdout.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "Flags":
            return set(value.split())
    return set()


def luks_uuid(ctx: StageContext, node: str) -> str:
    res = ctx.run.run([distro.tool("cryptsetup"), "luksUUID", node], probe=True)
    return res.stdout.decode("ascii", "replace").strip()


def check_existing(ctx: StageContext, lk: LuksKey, node: str) -> str:
    """"format" or "reuse", from what is on `node`; raises when the config
    forbids both (no wipeVolume and something else, or a different LUKS, there)."""
    luks = lk.luks
    if luks.wipe_volume:
        return "format"
    found = ctx.machine.probe_filesystem(ctx.run, node)
    if found.ambivalent:
        where = f"$.storage.luks[{ctx.config.storage.luks.index(luks)}]"
        sigs = ", ".join(map(str, found.signatures)) or "wipefs could not list them"
        raise StageError(f"{where} (LUKS volume {luks.name}): blkid found more than one signature on {luks.device} "
                         f"({sigs}), so it cannot tell what "
                         "is there; set wipeVolume: true to erase every signature and format it")
    if not found.type:
        return "format"
    if found.type != "crypto_LUKS":
        raise StageError(f"LUKS volume {luks.name}: {luks.device} holds {found.type} and wipeVolume is false; "
                         "volume is not of the correct type: set wipeVolume: true to reformat it")
    header = ctx.machine.luks_header(ctx.run, node)
    is2 = ctx.run.run([distro.tool("cryptsetup"), "isLuks", "--type", "luks2", header], probe=True, check=False)
    if is2.returncode != 0:
        raise StageError(f"LUKS volume {luks.name}: {luks.device} is a LUKS1 volume; only LUKS2 is supported: "
                         "set wipeVolume: true to reformat it")
    why = []
    if has_clevis(luks.clevis):
        why.append("clevis bindings cannot be checked")
    if lk.generated:
        why.append("no keyFile is given, so its key cannot be known")
    if luks.label is not None and found.label != luks.label:
        why.append(f"label {found.label!r}, wanted {luks.label!r}")
    if luks.uuid and luks_uuid(ctx, header).lower() != luks.uuid.lower():
        why.append(f"UUID differs from {luks.uuid}")
    if bool(luks.discard) != ("allow-discards" in _luks_dump_flags(ctx, header)):
        why.append("discard differs")
    if why:
        raise StageError(f"LUKS volume {luks.name}: {luks.device} is an existing LUKS2 volume that does not "
                         f"match ({'; '.join(why)}) and wipeVolume is false; set wipeVolume: true to reformat it")
    return "reuse"


def _cs(ctx: StageContext, what: str, argv: list[str], timeout: float = 300) -> None:
    try:
        ctx.run.run(argv, timeout=timeout)
    except CommandError as e:
        detail = "\n".join(str(e).splitlines()[:3])
        raise StageError(f"{what}: {detail}") from e


def apply_luks(ctx: StageContext, lk: LuksKey, node: str, action: str | None = None) -> None:
    """Format (or reuse) and open one volume; `node` is its resolved device.
    `action` is given only by a dry run for a device that does not exist yet."""
    luks = lk.luks
    cs = distro.tool("cryptsetup")
    action = action or check_existing(ctx, lk, node)
    with key_file(ctx, lk) as kf:
        if action == "reuse":
            _cs(ctx, f"LUKS volume {luks.name}: the keyFile does not open the existing volume on {luks.device}; "
                "set wipeVolume: true to reformat it",
                [cs, "luksOpen", "--test-passphrase", "--key-file", kf, node])
            ctx.logger.info(f"LUKS volume {luks.name} on {luks.device} already matches; reusing it")
        else:
            if luks.wipe_volume:
                _cs(ctx, f"wiping {luks.device}", [distro.tool("wipefs"), "-a", node])
            argv = [cs, "luksFormat", "--type", "luks2", "--key-file", kf]
            if luks.label is not None:
                argv += ["--label", luks.label]
            if luks.uuid:
                argv += ["--uuid", luks.uuid]
            _cs(ctx, f"formatting LUKS volume {luks.name} on {luks.device}; check its options",
                argv + list(luks.options) + [node])
            if has_clevis(luks.clevis):
                pin, config = clevis_pin(luks.clevis)
                _cs(ctx, f"binding LUKS volume {luks.name} with clevis ({pin})",
                    [distro.tool("clevis"), "luks", "bind", "-f", "-k", kf, "-d", node, pin, config])
        argv = [cs, "luksOpen", node, luks.name, "--key-file", kf, "--persistent"]
        if luks.discard:
            argv.append("--allow-discards")
        _cs(ctx, f"opening LUKS volume {luks.name} on {luks.device}; check its openOptions",
            argv + list(luks.open_options))
        if action == "format" and has_clevis(luks.clevis):
            c = luks.clevis
            offline = sum(1 for t in c.tang if not t.advertisement) + (1 if c.tpm2 else 0)
            if (c.tang or c.tpm2) and offline >= (c.threshold or 1):
                # As Ignition: prove the binding unlocks the volume before relying on it.
                _cs(ctx, f"closing LUKS volume {luks.name}", [cs, "luksClose", luks.name])
                _cs(ctx, f"unlocking LUKS volume {luks.name} with clevis",
                    [distro.tool("clevis"), "luks", "unlock", "-d", node, "-n", luks.name])
            if lk.generated:
                _cs(ctx, f"removing the generated key of LUKS volume {luks.name}",
                    [cs, "luksRemoveKey", node, kf])
    if ctx.plan is None and not has_clevis(luks.clevis):
        ctx.state.luks_persist_key_files[luks.name] = "data:;base64," + base64.b64encode(lk.key).decode()
