"""The target root. Every effect a stage has on the target goes through here.

Config paths are interpreted inside the root the way a chroot would: every
component but the last is resolved, symlinks are chased with absolute targets
taken relative to the root and `..` never climbing above it, and the result is
checked to lie inside the root. The last component is never followed, so a
config entry can replace a link instead of writing through it.

DryRunSysroot (sysroot_dryrun.py) reads the real tree (the plan must reflect
what is there) and records writes in the plan instead of doing them.
"""

from __future__ import annotations

import collections
import contextlib
import os
import stat
from collections.abc import Callable

from ignition.diskerrors import described, filesystem_error
from ignition.errors import SysrootEscape
from ignition.staged import InlineBytes, Staged, StagedFile
from ignition.tmpfile import mkstemp

MAX_SYMLINK_HOPS = 40  # Linux's own limit (ELOOP)


class Sysroot:
    def __init__(self, root: str) -> None:
        if not os.path.isabs(root):
            raise SysrootEscape(f"the root {root!r} must be an absolute path")
        self.root = os.path.normpath(root)

    def resolve(self, path: str) -> str:
        """The host path of config path `path` inside the root."""
        if not path.startswith("/"):
            raise SysrootEscape(f"{path!r} is not an absolute path")
        if "\0" in path:  # the OS would raise ValueError: make it an operator's error instead
            raise SysrootEscape(f"{path!r} contains a NUL byte, which no file name can hold")
        parts = path.split("/")
        pending = collections.deque((c, True) for c in parts[:-1])
        pending.append((parts[-1], False))
        resolved: list[str] = []
        hops = 0
        while pending:
            comp, follow = pending.popleft()
            if comp in ("", "."):
                continue
            if comp == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = os.path.join(self.root, *resolved, comp)
            if follow and os.path.islink(candidate):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    raise SysrootEscape(f"too many levels of symbolic links resolving {path}")
                target = os.readlink(candidate)
                if target.startswith("/"):
                    resolved = []
                pending.extendleft(reversed([(c, True) for c in target.split("/")]))
                continue
            resolved.append(comp)
        host = os.path.join(self.root, *resolved)
        if os.path.commonpath([self.root, host]) != self.root:
            raise SysrootEscape(f"{path} resolves to {host}, outside the root {self.root}")
        return host

    def resolve_full(self, path: str) -> str:
        """Like resolve, but the last component is followed too (inside the root)."""
        return self.resolve(path.rstrip("/") + "/") if path != "/" else self.root

    def relative(self, host: str) -> str:
        """The config-style path of a host path inside the root."""
        rel = os.path.relpath(host, self.root)
        return "/" if rel == "." else "/" + rel

    # Reading is the same for real and dry runs.

    def made_by_command(self, path: str, kind: str) -> None:
        """`path` is now a `kind` node that a command (useradd) made; nothing to
        do when the command really ran."""

    def lexists(self, path: str) -> bool:
        return os.path.lexists(self.resolve(path))

    def read_bytes(self, path: str) -> bytes | None:
        """Content of a regular file, or None when there is none."""
        try:
            fd = os.open(self.resolve_full(path), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            return None
        with os.fdopen(fd, "rb") as f:
            return f.read()

    # Writing.

    def makedirs(self, path: str, mode: int = 0o755) -> list[str]:
        """Create `path` (with `mode`) and its missing parents (0755), owned by
        the caller, i.e. root in the initramfs. Links on the way are followed
        inside the root. Returns the config paths created."""
        created: list[str] = []
        missing: list[str] = []
        cur = path
        while cur != "/" and not os.path.isdir(self.resolve_full(cur)):
            missing.append(cur)
            cur = os.path.dirname(cur)
        try:
            for p in reversed(missing):
                host = self.resolve_full(p)
                # A link on the way may point at a directory that is missing too.
                self._mkdir_parents(host)
                self._mkdir(host, mode if p == path else 0o755)
                created.append(p)
        except BaseException:
            # A path that cannot be made (too long, a file on the way, ...) leaves nothing behind.
            self.remove_created(created)
            raise
        return created

    def remove_created(self, created: list[str]) -> None:
        """Remove again the directories makedirs returned, deepest first, as
        long as they are still empty: a node that failed leaves nothing behind
        that the config did not ask for."""
        for p in reversed(created):
            try:
                os.rmdir(self.resolve(p))
            except OSError:
                return  # not empty (or gone): its parents are not empty either

    def _mkdir_parents(self, host: str) -> None:
        parent = os.path.dirname(host)
        if parent != self.root and not os.path.isdir(parent):
            self._mkdir_parents(parent)
            self._mkdir(parent, 0o755)

    def _mkdir(self, host: str, mode: int) -> None:
        try:
            with described(os.path.dirname(host), f"creating the directory {self.relative(host)}"):
                os.mkdir(host)
        except FileExistsError:
            if not os.path.isdir(host):
                raise
            return
        os.chmod(host, mode)  # not subject to the umask

    def write_file(
        self, path: str, data: bytes, mode: int = 0o644, uid: int | None = None, gid: int | None = None
    ) -> None:
        """Write atomically: a temp file in the same directory, renamed over the
        target, so a reader sees the old file or the new, never half. Durability
        comes from one sync() at the end of the stage: an fsync per file would
        cost more than the writing itself (Ignition does neither)."""
        self.resolve(path)  # an impossible path fails before any parent is made
        self.makedirs(os.path.dirname(path))
        host = self.resolve(path)
        directory = os.path.dirname(host)
        tmp: str | None = None
        try:
            with described(directory, f"writing {path} ({len(data)} bytes)"):
                fd, tmp = mkstemp(directory)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    if uid is not None or gid is not None:
                        os.fchown(f.fileno(), -1 if uid is None else uid, -1 if gid is None else gid)
                    os.fchmod(f.fileno(), mode)
                os.rename(tmp, host)
                tmp = None
        finally:
            if tmp is not None:  # whatever failed, the temp file goes
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)

    def stage(self, directory: str, final: str) -> Staged:
        """A temp file in the existing directory `directory` (a config path) to
        stream contents meant for `final` into (see ignition/staged.py)."""
        return StagedFile(self.resolve_full(directory), final)

    def install(self, path: str, staged: Staged, mode: int = 0o644, uid: int | None = None,
                gid: int | None = None) -> None:
        """Put staged contents in place at `path` with one rename (owner and
        mode set before it), so a reader never sees the file half written."""
        assert isinstance(staged, StagedFile)
        self.makedirs(os.path.dirname(path))
        staged.install(self.resolve(path), mode, uid, gid)

    def stage_inline(self, final: str) -> Staged:
        """Where to keep a fragment that will be appended to `final` and whose
        bytes are already in the config (see InlineBytes)."""
        return InlineBytes(final)

    def append_staged(self, path: str, staged: Staged) -> None:
        """Append staged contents to the regular file at `path` (made 0644 when
        missing); the staged file is removed."""
        assert isinstance(staged, StagedFile | InlineBytes)
        self._append(path, staged.copy_to)
        staged.discard()

    def _append(self, path: str, write: Callable[[int], None]) -> None:
        """Append what `write` writes to the descriptor. On failure the file is
        cut back to its old size: half a fragment is worse than none (a
        crypttab line or a config snippet cut in two breaks the boot later)."""
        self.makedirs(os.path.dirname(path))
        host = self.resolve(path)
        directory = os.path.dirname(host)
        with described(directory, f"opening {path} to append to it"):
            fd = os.open(host, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        try:
            before = os.fstat(fd).st_size
            try:
                write(fd)
            except OSError as e:
                written = os.fstat(fd).st_size - before
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, before)
                full = filesystem_error(e, directory, f"appending to {path} ({written} bytes written, "
                                                      "taken back)")
                if full is None:
                    raise
                raise full from e
        finally:
            os.close(fd)

    def is_dir(self, path: str) -> bool:
        """A directory (or a link to one, followed inside the root) is at `path`."""
        return os.path.isdir(self.resolve_full(path))

    def sync(self) -> None:
        """Flush everything written to disk (once, at the end of a stage)."""
        os.sync()

    def kind(self, path: str) -> str | None:
        """"file", "dir", "link", "other", or None when nothing is there."""
        try:
            st = os.lstat(self.resolve(path))
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode):
            return "link"
        if stat.S_ISDIR(st.st_mode):
            return "dir"
        return "file" if stat.S_ISREG(st.st_mode) else "other"

    def lstat(self, path: str) -> os.stat_result | None:
        try:
            return os.lstat(self.resolve(path))
        except FileNotFoundError:
            return None

    def readlink(self, path: str) -> str:
        return os.readlink(self.resolve(path))

    def remove_all(self, path: str) -> None:
        """Remove whatever is at `path` (a link itself, never its target)."""
        host = self.resolve(path)
        if os.path.islink(host) or not os.path.isdir(host):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(host)
        else:
            import shutil  # shutil loads bz2 and lzma: only when a tree is removed

            shutil.rmtree(host)

    def mkdir(self, path: str, mode: int) -> None:
        self._mkdir(self.resolve(path), mode)

    def symlink(self, path: str, target: str) -> None:
        self.makedirs(os.path.dirname(path))
        host = self.resolve(path)
        with described(os.path.dirname(host), f"creating the link {path}"):
            os.symlink(target, host)

    def hardlink(self, path: str, target: str) -> None:
        """A hard link at `path` to the config path `target` (inside the root)."""
        self.makedirs(os.path.dirname(path))
        os.link(self.resolve(target), self.resolve(path), follow_symlinks=False)

    def append(self, path: str, data: bytes) -> None:
        """Append to a regular file, creating it 0644 when missing."""
        self._append(path, lambda fd: write_all(fd, data))

    def chmod(self, path: str, mode: int) -> None:
        host = self.resolve(path)
        if os.path.islink(host):  # chmod would follow it, possibly out of the root
            raise SysrootEscape(f"refusing to change the mode of {path} through a symbolic link")
        os.chmod(host, mode)

    def chown(self, path: str, uid: int | None, gid: int | None) -> None:
        """Change the owner of the node itself (a link, not its target)."""
        os.chown(self.resolve(path), -1 if uid is None else uid, -1 if gid is None else gid, follow_symlinks=False)


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (one call may write fewer)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]

