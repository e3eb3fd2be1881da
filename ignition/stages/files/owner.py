"""User and group names resolved in the TARGET's /etc/passwd and /etc/group,
never the host's: the initramfs has its own (tiny) databases, and the users
this stage just created exist only in the target's."""

from __future__ import annotations

from ignition.config.types import Config, NodeGroup, NodeUser
from ignition.errors import StageError
from ignition.sysroot import Sysroot


def _table(root: Sysroot, path: str) -> list[list[str]]:
    raw = root.read_bytes(path) or b""
    return [line.split(":") for line in raw.decode("utf-8", "replace").splitlines() if line and ":" in line]


def lookup_user(root: Sysroot, name: str) -> list[str] | None:
    """The /etc/passwd fields of `name` in the target, or None."""
    return next((f for f in _table(root, "/etc/passwd") if f[0] == name and len(f) >= 7), None)


def lookup_group(root: Sysroot, name: str) -> list[str] | None:
    return next((f for f in _table(root, "/etc/group") if f[0] == name and len(f) >= 3), None)


def planned_accounts(config: Config) -> tuple[frozenset[str], frozenset[str]]:
    """The users and groups a dry run of `config` adds (a new user's own group
    included): in a dry run they exist only in the plan."""
    users = frozenset(u.name for u in config.passwd.users if u.should_exist is not False)
    groups = frozenset(g.name for g in config.passwd.groups if g.should_exist is not False)
    return users, groups | users


def resolve_ids(root: Sysroot, user: NodeUser, group: NodeGroup, where: str,
                planned: tuple[frozenset[str], frozenset[str]] | None = None) -> tuple[int | None, int | None]:
    """(uid, gid) the config asks for; None where it asks for nothing.
    `planned`: in a dry run, the users and groups the config adds
    (planned_accounts); their names stay unresolved (None) instead of failing."""
    uid = user.id
    if user.name:
        entry = lookup_user(root, user.name)
        if entry is None and planned is not None and user.name in planned[0]:
            return None, group.id
        if entry is None:
            raise StageError(f"{where}: user {user.name!r} does not exist in the target's /etc/passwd; "
                             "create it in passwd.users or give user.id")
        uid = int(entry[2])
    gid = group.id
    if group.name:
        gentry = lookup_group(root, group.name)
        if gentry is None and planned is not None and group.name in planned[1]:
            return uid, None
        if gentry is None:
            raise StageError(f"{where}: group {group.name!r} does not exist in the target's /etc/group; "
                             "create it in passwd.groups or give group.id")
        gid = int(gentry[2])
    return uid, gid
