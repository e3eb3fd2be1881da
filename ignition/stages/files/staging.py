"""Every file's contents and appended fragments, streamed onto the target
before the first node is written.

Each resource streams (see resources/stream.py) into a temp file staged in
the nearest directory that already exists on the way to its final path: the
final path will be on that same filesystem (a directory the stage creates
lives where its parent does), so the later rename is cheap and atomic and
nothing large ever sits in memory or in /run (an append fragment from an
uncompressed data: URL is kept in memory: it is no larger than the config
that holds it, and a temp file would only be copied and removed). A directory that an
`overwrite` entry removes is not used, nor anything below it. If any fetch
or hash fails, every staged file is removed and nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ignition.config.types import File, Resource
from ignition.context import StageContext
from ignition.errors import IgnitionError, StageError
from ignition.record import record
from ignition.resources.parallel import FetchFailed, fetch_all_into
from ignition.staged import Staged, remove_strays

if TYPE_CHECKING:
    from ignition.stages.files.nodes import Entry


@record(kw_only=False, frozen=False, slots=False)
class Fetched:
    """A file's staged contents and appended fragments, fetched and verified."""

    contents: Staged | None  # None: the file has no contents.source
    appends: list[Staged]

    def pending(self) -> Iterable[Staged]:
        if self.contents is not None:
            yield self.contents
        yield from self.appends


def _shallowest_removed(cur: str, removed: set[str]) -> str | None:
    """The shallowest of `cur` and its ancestors that an overwrite removes."""
    found = None
    p = cur
    while p != "/":
        if p in removed:
            found = p
        p = os.path.dirname(p)
    return found


def staging_dir(ctx: StageContext, path: str, removed: set[str], known: dict[str, bool]) -> str:
    """The config path of the directory to stage `path`'s contents in;
    `known` caches which directories exist (thousands of files share few)."""
    cur = os.path.dirname(path)
    while cur != "/":
        doomed = _shallowest_removed(cur, removed)
        if doomed is not None:
            cur = os.path.dirname(doomed)
            continue
        if cur not in known:
            try:
                known[cur] = ctx.root.is_dir(cur)
            except IgnitionError:  # a link loop on the way: the node's own write names it
                known[cur] = False
        if known[cur]:
            return cur
        cur = os.path.dirname(cur)
    return "/"


def other_write_dirs(ctx: StageContext) -> list[str]:
    """The config directories the rest of the files stage writes temp files
    in (units, dropins, presets, LUKS keys, the result file, SSH keys in the
    home the config names or the default one)."""
    from ignition.stages.files.crypttab import KEY_DIR
    from ignition.stages.files.result import RESULT_PATH
    from ignition.stages.files.units import PRESET_PATH, UNITS_DIR

    cfg = ctx.config
    dirs = [os.path.dirname(RESULT_PATH), UNITS_DIR, os.path.dirname(PRESET_PATH), KEY_DIR]
    dirs += [f"{UNITS_DIR}/{u.name}.d" for u in cfg.systemd.units if u.dropins]
    for user in cfg.passwd.users:
        if user.ssh_authorized_keys and user.name and "/" not in user.name:
            home = user.home_dir if user.home_dir and user.home_dir.startswith("/") else f"/home/{user.name}"
            dirs += [f"{home}/.ssh", f"{home}/.ssh/authorized_keys.d"]
    return dirs


def clean_strays(ctx: StageContext, entries: Sequence[Entry]) -> None:
    """Remove our temp files (the one name of ignition/tmpfile.py, nothing
    else) left by a run that was killed, in every directory this config
    could have staged or written in."""
    if ctx.dry_run:
        return
    candidates: set[str] = set()
    for path in [e.node.path for e in entries] + [d + "/x" for d in other_write_dirs(ctx)]:
        cur = os.path.dirname(path)
        while cur not in candidates:
            candidates.add(cur)
            if cur == "/":
                break
            cur = os.path.dirname(cur)
    dirs: set[str] = set()
    for cur in candidates:
        try:
            if ctx.root.is_dir(cur):
                dirs.add(ctx.root.resolve_full(cur))
        except (IgnitionError, ValueError):
            pass  # a path that leaves the root (or cannot exist) is reported where it is written
    for host in remove_strays(dirs):
        ctx.logger.info(f"removed {ctx.root.relative(host)}, a temporary file left by an earlier run")


def fetch_contents(ctx: StageContext, files: Sequence[Entry], removed: set[str]) -> dict[int, Fetched]:
    """Every file's contents and appended fragments, staged concurrently
    (remote ones through a bounded pool) with the outcome of fetching them one
    by one in `files` order: same bytes, and on failure the error of the first
    resource in that order that fails, with nothing left staged."""
    jobs: list[Resource] = []
    where: list[tuple[str, str]] = []  # (what, final path) of each job
    in_memory: set[int] = set()  # jobs that are appends of an uncompressed data: URL
    slots: list[tuple[int, int | None, int, int]] = []  # entry index, contents job, first/end append job
    for e in files:
        f = e.node
        assert isinstance(f, File)
        contents_job = None
        if f.contents.source:
            contents_job = len(jobs)
            jobs.append(f.contents)
            where.append((f"the contents of {e.where}", f.path))
        first = len(jobs)
        for j, a in enumerate(f.append):
            if _inline_plain(a):
                in_memory.add(len(jobs))
            jobs.append(a)
            where.append((f"append {j} of {e.where}", f.path))
        slots.append((e.index, contents_job, first, len(jobs)))
    known: dict[str, bool] = {}
    dirs = {path: staging_dir(ctx, path, removed, known) for _, path in where}

    def make_sink(i: int) -> Staged:
        path = where[i][1]
        if i in in_memory:
            return ctx.root.stage_inline(path)
        return ctx.root.stage(dirs[path], path)

    try:
        got = fetch_all_into(ctx.fetcher, jobs, make_sink)
    except FetchFailed as failed:
        if isinstance(failed.error, IgnitionError):
            raise StageError(f"fetching {where[failed.index][0]}: {failed.error}") from failed.error
        if isinstance(failed.error, MemoryError):  # not expected when streaming; still not a traceback
            raise StageError(f"fetching {where[failed.index][0]}: out of memory") from failed.error
        raise failed.error from None
    out: dict[int, Fetched] = {}
    for index, contents_job, first, end in slots:
        contents = got[contents_job] if contents_job is not None else None
        out[index] = Fetched(contents, got[first:end])
    return out


def _inline_plain(res: Resource) -> bool:
    # Bounded by the config's own size: no gzip that could expand it. Contents
    # are staged as files whatever their source, since the staged file is
    # renamed into place; a fragment would only be copied and removed.
    return (res.source or "")[:5].lower() == "data:" and not res.compression


def discard(fetched: dict[int, Fetched]) -> None:
    """Remove whatever is still staged (a node failed before its turn)."""
    for f in fetched.values():
        for s in f.pending():
            s.discard()
