"""The target root. Every effect a stage has on the target goes through here.

Config paths are interpreted inside the root the way a chroot would: every
component but the last is resolved, symlinks are chased with absolute targets
taken relative to the root and `..` never climbing above it, and the result is
checked to lie inside the root. The last component is never followed, so a
config entry can replace a link instead of writing through it.

DryRunSysroot reads the real tree (the plan must reflect what is there) and
records writes in the plan instead of doing them.
"""

from __future__ import annotations

import collections
import errno
import hashlib
import os
import tempfile

from ignition.errors import SysrootEscape
from ignition.plan import Plan

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

    def relative(self, host: str) -> str:
        """The config-style path of a host path inside the root."""
        rel = os.path.relpath(host, self.root)
        return "/" if rel == "." else "/" + rel

    # Reading is the same for real and dry runs.

    def lexists(self, path: str) -> bool:
        return os.path.lexists(self.resolve(path))

    def read_bytes(self, path: str) -> bytes | None:
        """Content of a regular file, or None when there is none."""
        try:
            with open(self.resolve(path), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    # Writing.

    def makedirs(self, path: str, mode: int = 0o755) -> list[str]:
        """Create `path` and its missing parents (0755, owned by the caller,
        i.e. root in the initramfs). Returns the config paths created."""
        created: list[str] = []
        missing: list[str] = []
        cur = path
        while cur != "/" and not os.path.isdir(self.resolve(cur)):
            missing.append(cur)
            cur = os.path.dirname(cur)
        for p in reversed(missing):
            self._mkdir(self.resolve(p), mode)
            created.append(p)
        return created

    def _mkdir(self, host: str, mode: int) -> None:
        try:
            os.mkdir(host)
        except FileExistsError:
            if not os.path.isdir(host):
                raise
            return
        os.chmod(host, mode)  # not subject to the umask

    def write_file(
        self, path: str, data: bytes, mode: int = 0o644, uid: int | None = None, gid: int | None = None
    ) -> None:
        """Write atomically: a temp file in the same directory, fsync, rename,
        fsync the directory. A reader sees the old file or the new, never half."""
        self.makedirs(os.path.dirname(path))
        host = self.resolve(path)
        directory = os.path.dirname(host)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".ignition-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                if uid is not None or gid is not None:
                    os.fchown(f.fileno(), -1 if uid is None else uid, -1 if gid is None else gid)
                os.fchmod(f.fileno(), mode)
                os.fsync(f.fileno())
            os.rename(tmp, host)
        except BaseException:
            with _ignore_missing():
                os.unlink(tmp)
            raise
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


class _ignore_missing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, typ: object, exc: object, tb: object) -> bool:
        return isinstance(exc, OSError) and exc.errno == errno.ENOENT


class DryRunSysroot(Sysroot):
    """Reads the real tree, records writes in the plan."""

    def __init__(self, root: str, plan: Plan) -> None:
        super().__init__(root)
        self.plan = plan
        self._planned_dirs: set[str] = set()

    def makedirs(self, path: str, mode: int = 0o755) -> list[str]:
        created: list[str] = []
        cur = path
        while cur != "/" and cur not in self._planned_dirs and not os.path.isdir(self.resolve(cur)):
            created.append(cur)
            cur = os.path.dirname(cur)
        for p in reversed(created):
            self._planned_dirs.add(p)
            self.plan.add("mkdir", p, mode=f"{mode:04o}")
        return list(reversed(created))

    def write_file(
        self, path: str, data: bytes, mode: int = 0o644, uid: int | None = None, gid: int | None = None
    ) -> None:
        self.makedirs(os.path.dirname(path))
        owner = f"{0 if uid is None else uid}:{0 if gid is None else gid}"
        self.plan.add(
            "write",
            path,
            type="file",
            mode=f"{mode:04o}",
            owner=owner,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
