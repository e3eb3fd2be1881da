"""Users and groups through shadow-utils run with `--root`, so the target's
databases, login.defs and skeleton are used, never the initramfs's.
Existing entries are modified, not duplicated; `shouldExist: false` deletes."""

from __future__ import annotations

import os

from ignition import distro
from ignition.config.types import PasswdGroup, PasswdUser
from ignition.context import StageContext
from ignition.errors import CommandError, StageError
from ignition.log import MSG_SSH_KEYS_WRITTEN
from ignition.stages.files.owner import lookup_group, lookup_user

KEYS_FRAGMENT = ".ssh/authorized_keys.d/ignition"
KEYS_FILE = ".ssh/authorized_keys"


def keys_file(ctx: StageContext) -> str:
    """Where SSH keys go, relative to the home: the fragment unless the distro says
    IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT=false (or 0), as in Ignition."""
    value = ctx.env.authorized_keys_fragment
    if value in ("true", "1"):
        return KEYS_FRAGMENT
    if value in ("false", "0"):
        return KEYS_FILE
    raise StageError(f"IGNITION_WRITE_AUTHORIZED_KEYS_FRAGMENT is {value!r}: set it to true, false, 1 or 0")


def _run(ctx: StageContext, argv: list[str], what: str, where: str) -> None:
    """Run one shadow-utils command; a failure names `where`, the config path."""
    with ctx.logger.op(what):
        try:
            ctx.run.run(argv)
        except CommandError as e:
            raise StageError(f"{where}: {what}: {e}") from e


def _group(ctx: StageContext, i: int, g: PasswdGroup) -> None:
    root, where = f"--root={ctx.root.root}", f"passwd.groups.{i}"
    exists = lookup_group(ctx.root, g.name) is not None
    if g.should_exist is False:
        if exists:
            _run(ctx, [distro.tool("groupdel"), root, g.name], f"deleting group {g.name!r}", where)
        return
    args: list[str] = []
    if g.gid is not None:
        args += ["--gid", str(g.gid)]
    if exists:
        if g.password_hash is not None:
            args += ["--password", g.password_hash]
        if args:
            _run(ctx, [distro.tool("groupmod"), root, *args, g.name], f"modifying group {g.name!r}", where)
        return
    # No hash: groupadd's own default ("!" in gshadow, no password), as current Ignition.
    if g.password_hash:
        args += ["--password", g.password_hash]
    if g.system:
        args.append("--system")
    _run(ctx, [distro.tool("groupadd"), root, *args, g.name], f"adding group {g.name!r}", where)


def _user(ctx: StageContext, i: int, u: PasswdUser) -> None:
    root, where = f"--root={ctx.root.root}", f"passwd.users.{i}"
    exists = lookup_user(ctx.root, u.name) is not None
    if u.should_exist is False:
        if exists:
            _run(ctx, [distro.tool("userdel"), root, "--remove", u.name], f"deleting user {u.name!r}", where)
        return
    common: list[str] = []
    if u.uid is not None:
        common += ["--uid", str(u.uid)]
    if u.gecos:
        common += ["--comment", u.gecos]
    if u.primary_group:
        common += ["--gid", u.primary_group]
    if u.groups:
        common += ["--groups", ",".join(u.groups)]
    if u.shell:
        common += ["--shell", u.shell]
    if exists:
        args = list(common)
        if u.home_dir:
            args = ["--home", u.home_dir, "--move-home", *args]
        if u.password_hash is not None:
            args += ["--password", u.password_hash or "*"]  # empty: locked, never passwordless
        if args:
            _run(ctx, [distro.tool("usermod"), root, *args, u.name], f"modifying user {u.name!r}", where)
    else:
        args = []
        if u.home_dir:
            args += ["--home-dir", u.home_dir]
        args.append("--no-create-home" if u.no_create_home else "--create-home")
        if u.no_user_group:
            args.append("--no-user-group")
        if u.system:
            args.append("--system")
        if u.no_log_init:
            args.append("--no-log-init")
        # No hash means a locked password, as in Ignition.
        args += ["--password", u.password_hash or "*"]
        _run(ctx, [distro.tool("useradd"), root, *args, *common, u.name], f"adding user {u.name!r}", where)
        if not u.no_create_home:
            # A dry run records useradd; later steps must still see the home it makes.
            ctx.root.made_by_command(u.home_dir or f"/home/{u.name}", "dir")


def _ssh_keys(ctx: StageContext, u: PasswdUser) -> str | None:
    if u.should_exist is False or not u.ssh_authorized_keys:
        return None
    entry = lookup_user(ctx.root, u.name)
    if entry is None:
        if ctx.dry_run:  # the user would have been created by now
            entry = [u.name, "x", "0", "0", "", u.home_dir or f"/home/{u.name}", ""]
        else:
            raise StageError(f"passwd.users ({u.name}): the user is missing from the target's /etc/passwd "
                             "after useradd; cannot write its SSH keys")
    uid, gid, home = int(entry[2]), int(entry[3]), entry[5]
    path = os.path.join(home, keys_file(ctx))
    ssh_dir = os.path.join(home, ".ssh")
    dirs = list(dict.fromkeys((ssh_dir, os.path.dirname(path))))
    # A home owned by the user may hold links planted to redirect this
    # root-owned write; refuse to write through any.
    try:
        for p in (*dirs, path):
            if ctx.root.kind(p) == "link":
                raise StageError(f"refusing to write SSH keys for {u.name}: {p} is a symbolic link")
        home_kind = ctx.root.kind(home)
    except OSError as e:  # e.g. a home directory name too long for the filesystem
        raise StageError(f"writing SSH keys for {u.name} under {home}: {e.strerror or e}") from e
    if home_kind != "dir" and not ctx.dry_run:
        raise StageError(f"cannot write SSH keys for {u.name}: its home {home} does not exist in the target "
                         "(noCreateHome?); create the home directory in storage.directories")
    with ctx.logger.op(f"adding ssh keys to user {u.name!r}"):
        try:
            for d in dirs:
                if ctx.root.kind(d) is None:
                    ctx.root.mkdir(d, 0o700)
                    ctx.root.chown(d, uid, gid)
            data = "".join(k.rstrip("\n") + "\n" for k in u.ssh_authorized_keys).encode()
            ctx.root.write_file(path, data, 0o600, uid, gid)
        except OSError as e:
            raise StageError(f"writing SSH keys for {u.name} to {path}: {e.strerror or e}") from e
    ctx.logger.info(f"wrote ssh authorized keys file for user: {u.name}", MESSAGE_ID=MSG_SSH_KEYS_WRITTEN,
                    IGNITION_USER_NAME=u.name, IGNITION_PATH=path)
    return path


def _hand_over_mountpoints(ctx: StageContext) -> None:
    """Directories the mount stage created for a filesystem mounted in a
    user's home, the home itself included, belong to that user with mode
    0700, as if useradd had made them (useradd leaves a home that already
    exists alone): without this the user could not use their own home."""
    for u in ctx.config.passwd.users:
        entry = lookup_user(ctx.root, u.name) if u.should_exist is not False else None
        if entry is None:
            continue
        uid, gid, home = int(entry[2]), int(entry[3]), entry[5].rstrip("/")
        for d in ctx.state.notated_directories:
            if home and (d == home or d.startswith(home + "/")) and ctx.root.kind(d) == "dir":
                with ctx.logger.op(f"handing mount point {d!r} to user {u.name!r}"):
                    ctx.root.chown(d, uid, gid)
                    ctx.root.chmod(d, 0o700)


def apply_passwd(ctx: StageContext) -> list[str]:
    """Groups first (users may name them), then users, then their SSH keys.
    Returns the paths to relabel."""
    passwd = ctx.config.passwd
    if not passwd.users and not passwd.groups:
        return []
    for i, g in enumerate(passwd.groups):
        _group(ctx, i, g)
    for i, u in enumerate(passwd.users):
        _user(ctx, i, u)
    _hand_over_mountpoints(ctx)
    relabel = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/subuid", "/etc/subgid",
               "/etc/.pwd.lock"]
    for u in passwd.users:
        key_path = _ssh_keys(ctx, u)
        if key_path:
            relabel.append(os.path.dirname(os.path.dirname(key_path)))
    return relabel
