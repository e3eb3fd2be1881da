"""Relabel what the stage wrote when the target has an SELinux policy.

Files written from the initramfs get no label of their own; without a
relabel a targeted-policy system would deny access to them after switch-root.
A target without a policy (no /etc/selinux/config naming one, or no
file_contexts for it) needs nothing, and is skipped quietly.
"""

from __future__ import annotations

from collections.abc import Sequence

from ignition import distro
from ignition.context import StageContext
from ignition.errors import CommandError, StageError


def policy_file_contexts(ctx: StageContext) -> str | None:
    raw = ctx.root.read_bytes("/etc/selinux/config")
    if raw is None:
        return None
    policy = None
    for line in raw.decode("utf-8", "replace").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.strip() == "SELINUXTYPE":
            policy = value.strip().strip('"')
    if not policy:
        return None
    path = f"/etc/selinux/{policy}/contexts/files/file_contexts"
    return path if ctx.root.kind(path) == "file" else None


def relabel(ctx: StageContext, paths: Sequence[str]) -> None:
    contexts = policy_file_contexts(ctx)
    if contexts is None or not paths:
        return
    unique = sorted({p for p in paths if ctx.root.lstat(p) is not None or ctx.dry_run})
    listing = b"".join(ctx.root.resolve(p).encode() + b"\0" for p in unique)
    argv = [distro.tool("setfiles"), "-vF0", "-r", ctx.root.root, ctx.root.resolve(contexts), "-f", "-"]
    with ctx.logger.op(f"relabeling {len(unique)} paths"):
        try:
            ctx.run.run(argv, input=listing)
        except CommandError as e:
            raise StageError(f"relabeling the files written for SELinux: {e}") from e
