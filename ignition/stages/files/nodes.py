"""Files, directories and links, with Ignition's semantics.

Order: directories, files and symbolic links sorted by path depth (stable, so
`/a` exists before `/a/b`), hard links last (their targets must exist). Every
file's contents and appended fragments are streamed to staged temp files on
the target and verified before the first node is written (staging.py), so a
bad hash or a missing resource leaves the target untouched; a node puts its
staged contents in place with one rename. Two entries that land on the same real path after symlink chasing
are refused, as Ignition does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ignition.config.types import Directory, File, Link, Storage
from ignition.context import StageContext
from ignition.errors import StageError, SysrootEscape
from ignition.record import record
from ignition.stages.files.owner import planned_accounts, resolve_ids
from ignition.stages.files.staging import Fetched, clean_strays, discard, fetch_contents

DEFAULT_FILE_MODE = 0o644
DEFAULT_DIR_MODE = 0o755


@record(kw_only=False, slots=False)
class Entry:
    """A file, directory or link of the config with its place in storage.*."""

    section: str  # "files", "directories", "links"
    index: int
    node: File | Directory | Link

    @property
    def where(self) -> str:
        return f"storage.{self.section}.{self.index} ({self.node.path})"


def _depth(path: str) -> int:
    return len([c for c in path.split("/") if c])


def ordered(storage: Storage) -> list[Entry]:
    entries = [Entry("directories", i, d) for i, d in enumerate(storage.directories)]
    entries += [Entry("files", i, f) for i, f in enumerate(storage.files)]
    entries += [Entry("links", i, ln) for i, ln in enumerate(storage.links) if not ln.hard]
    entries.sort(key=lambda e: _depth(e.node.path))
    entries += [Entry("links", i, ln) for i, ln in enumerate(storage.links) if ln.hard]
    return entries


def check_collisions(ctx: StageContext, entries: Sequence[Entry]) -> None:
    seen: dict[str, Entry] = {}
    for e in entries:
        try:
            host = ctx.root.resolve(e.node.path)
        except SysrootEscape as err:  # a link loop on the way (a NUL byte fails validation)
            raise StageError(f"{e.where}: {err}") from err
        other = seen.get(host)
        if other is not None:
            raise StageError(f"{e.where} resolves to {ctx.root.relative(host)} after symlink chasing, but "
                             f"{other.where} also resolves there; change one of the paths")
        seen[host] = e


def apply_nodes(ctx: StageContext) -> list[str]:
    """Create every node; returns the paths to relabel."""
    entries = ordered(ctx.config.storage)
    clean_strays(ctx, entries)
    removed = {e.node.path for e in entries if e.node.overwrite}
    fetched = fetch_contents(ctx, [e for e in entries if e.section == "files"], removed)
    try:
        check_collisions(ctx, entries)
        return _write_all(ctx, entries, fetched)
    finally:
        discard(fetched)  # what a failed node kept from being put in place


def _write_all(ctx: StageContext, entries: Sequence[Entry], fetched: dict[int, Fetched]) -> list[str]:
    relabel: list[str] = []
    for e in entries:
        n = e.node
        created: list[str] = []  # directories made on the way, removed again if the node fails
        try:
            if isinstance(n, File):
                desc = "writing file" if fetched[e.index].contents is not None else "creating file"
                with ctx.logger.op(f"{desc} {n.path!r}"):
                    relabel += _file(ctx, e, n, fetched[e.index], created)
            elif isinstance(n, Directory):
                with ctx.logger.op(f"creating directory {n.path!r}"):
                    relabel += _directory(ctx, e, n, created)
            else:
                with ctx.logger.op(f"writing link {n.path!r} -> {n.target!r}"):
                    relabel += _link(ctx, e, n, created)
        except BaseException as err:
            ctx.root.remove_created(created)
            if isinstance(err, OSError):
                where = f" ({err.filename})" if err.filename else ""
                raise StageError(f"{e.where}: {err.strerror or err}{where}") from err
            if isinstance(err, SysrootEscape):
                raise StageError(f"{e.where}: {err}") from err
            if isinstance(err, ValueError):  # e.g. a NUL byte in a path that skipped validation
                raise StageError(f"{e.where}: impossible path or target: {err}") from err
            raise
    return relabel


def _prepare(ctx: StageContext, e: Entry, created: list[str]) -> str | None:
    """Remove the old node when overwrite is set; create missing parents
    (added to `created`). Returns the node's kind afterwards."""
    root = ctx.root
    if e.node.overwrite and root.kind(e.node.path) is not None:
        root.remove_all(e.node.path)
    created += root.makedirs(os.path.dirname(e.node.path))
    return root.kind(e.node.path)


def _exists_error(e: Entry, kind: str) -> StageError:
    what = {"file": "a file", "dir": "a directory", "link": "a link"}.get(kind, "a special file")
    return StageError(f"{e.where}: {what} exists there already and overwrite is false; "
                      "set overwrite: true to replace it")


def _file(ctx: StageContext, e: Entry, f: File, got: Fetched, created: list[str]) -> list[str]:
    root = ctx.root
    kind = _prepare(ctx, e, created)
    uid, gid = resolve_ids(root, f.user, f.group, e.where, planned_accounts(ctx.config) if ctx.dry_run else None)
    if kind not in (None, "file"):
        raise _exists_error(e, kind)
    if got.contents is not None:
        if kind == "file":
            raise _exists_error(e, kind)
        root.install(f.path, got.contents, DEFAULT_FILE_MODE if f.mode is None else f.mode, uid, gid)
    elif kind is None:
        root.write_file(f.path, b"", DEFAULT_FILE_MODE if f.mode is None else f.mode, uid, gid)
    else:
        # An existing file without a source keeps its contents; only what
        # the config states about it changes.
        if uid is not None or gid is not None:
            root.chown(f.path, uid, gid)
        if f.mode is not None:
            root.chmod(f.path, f.mode)
    try:
        for fragment in got.appends:
            root.append_staged(f.path, fragment)
    except BaseException:
        if kind is None:  # this node made the file: a failed node leaves nothing behind
            root.remove_all(f.path)
        raise
    return created[:1] or [f.path]


def _directory(ctx: StageContext, e: Entry, d: Directory, created: list[str]) -> list[str]:
    root = ctx.root
    kind = _prepare(ctx, e, created)
    uid, gid = resolve_ids(root, d.user, d.group, e.where, planned_accounts(ctx.config) if ctx.dry_run else None)
    if kind is None:
        root.mkdir(d.path, DEFAULT_DIR_MODE if d.mode is None else d.mode)
        created.append(d.path)
    elif kind != "dir":
        raise _exists_error(e, kind)
    elif d.mode is not None:
        root.chmod(d.path, d.mode)
    if uid is not None or gid is not None:
        root.chown(d.path, uid, gid)
        if d.mode is not None:
            root.chmod(d.path, d.mode)  # chown clears setgid/setuid bits; set the mode last
    return created[:1] or [d.path]


def _link(ctx: StageContext, e: Entry, ln: Link, created: list[str]) -> list[str]:
    root = ctx.root
    kind = _prepare(ctx, e, created)
    target = ln.target or ""
    if ln.hard:
        if ln.user.id is not None or ln.user.name or ln.group.id is not None or ln.group.name:
            ctx.logger.warning(f"{e.where}: user and group are ignored for hard links")
        if root.kind(target) is None:
            raise StageError(f"{e.where}: the hard link's target {target} does not exist in the target root")
        if root.kind(target) == "dir":
            raise StageError(f"{e.where}: the hard link's target {target} is a directory; "
                             "hard links to directories are not possible, use a symbolic link")
        if kind is not None:
            st, target_stat = root.lstat(ln.path), root.lstat(target)
            if st is not None and target_stat is not None and \
                    (st.st_dev, st.st_ino) == (target_stat.st_dev, target_stat.st_ino):
                return []
            raise _exists_error(e, kind)
        root.hardlink(ln.path, target)
        return created[:1] or [ln.path]
    uid, gid = resolve_ids(root, ln.user, ln.group, e.where, planned_accounts(ctx.config) if ctx.dry_run else None)
    if kind == "link" and os.path.normpath(root.readlink(ln.path)) == os.path.normpath(target):
        pass  # already the link the config asks for
    elif kind is not None:
        raise _exists_error(e, kind)
    else:
        root.symlink(ln.path, target)
    if uid is not None or gid is not None:
        root.chown(ln.path, uid, gid)
    return created[:1] or [ln.path]
