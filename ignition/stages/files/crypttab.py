"""/etc/crypttab and /etc/luks/<name> for the LUKS volumes the disks stage
made (inventory 4.5 step 5), so the real root opens them on every boot.

The key of a volume without clevis comes from the state (a data URL the
disks stage left there) and is deleted from the state once written: the
state lives on a tmpfs, the key's only lasting copy is the target's.
"""

from __future__ import annotations

from ignition.config.types import Luks
from ignition.context import StageContext
from ignition.errors import CommandError, IgnitionError, StageError
from ignition.resources import dataurl

CRYPTTAB = "/etc/crypttab"
KEY_DIR = "/etc/luks"


def _uuid(ctx: StageContext, name: str, device: str) -> str:
    try:
        return ctx.machine.luks_uuid(ctx.run, device)
    except CommandError as e:
        raise StageError(f"reading the LUKS UUID of {name} on {device}: {e}") from e


def crypttab_line(name: str, uuid: str, key_path: str | None, netdev: bool) -> str:
    opts = "luks" + (",_netdev" if netdev else "") + ",x-initrd.attach"
    return f"{name} UUID={uuid} {key_path or 'none'} {opts}\n"


def apply_crypttab(ctx: StageContext) -> list[str]:
    """Append one crypttab line per LUKS volume; paths written (for relabeling)."""
    written: list[str] = []
    for i, luks in enumerate(ctx.config.storage.luks):
        try:
            _volume(ctx, luks, written)
        except OSError as e:  # a full or read-only /etc: one line naming the entry
            where = f" ({e.filename})" if e.filename else ""
            raise StageError(f"storage.luks.{i} ({luks.name}): {e.strerror or e}{where}") from e
    return written


def _volume(ctx: StageContext, luks: Luks, written: list[str]) -> None:
    """The key file (unless Clevis unlocks it) and the crypttab line of one volume."""
    # Here, not at the top: the LUKS module (with secrets, random and hashlib) is for
    # configs with volumes, and every files stage imports this one.
    from ignition.stages.disks.luks import has_clevis, needs_network

    clevis = has_clevis(luks.clevis)
    key_path = None if clevis else f"{KEY_DIR}/{luks.name}"
    if key_path is not None:
        url = ctx.state.luks_persist_key_files.get(luks.name)
        if url is None and ctx.plan is None:
            raise StageError(f"LUKS volume {luks.name}: the disks stage left no key for it in the state; "
                             "run the disks stage before files")
        try:
            key = dataurl.decode(url) if url is not None else b""
        except IgnitionError as e:
            raise StageError(f"LUKS volume {luks.name}: the key in the state does not decode") from e
        with ctx.logger.op(f"writing the key of LUKS volume {luks.name} to {key_path}"):
            ctx.root.makedirs(KEY_DIR, 0o700)
            ctx.root.write_file(key_path, key, 0o600)
        written.append(key_path)
    uuid = luks.uuid or _uuid(ctx, luks.name, luks.device or "")
    with ctx.logger.op(f"adding LUKS volume {luks.name} to {CRYPTTAB}"):
        ctx.root.append(CRYPTTAB, crypttab_line(luks.name, uuid, key_path,
                                                needs_network(luks.clevis)).encode())
        ctx.root.chmod(CRYPTTAB, 0o600)
    if CRYPTTAB not in written:
        written.append(CRYPTTAB)
    if key_path is not None and ctx.plan is None:
        del ctx.state.luks_persist_key_files[luks.name]
