"""The target root of a dry run: reads the real tree (the plan must reflect
what is there) and records every write in the plan instead of doing it."""

from __future__ import annotations

import os

from ignition.plan import Plan
from ignition.staged import CountedFile, Staged
from ignition.sysroot import Sysroot


def _sha256(data: bytes) -> str:
    import hashlib  # OpenSSL's set-up only in a dry run that shows contents

    return hashlib.sha256(data).hexdigest()


class DryRunSysroot(Sysroot):
    """Reads the real tree, records writes in the plan. An overlay of what
    the plan has created or removed so far keeps later decisions of the same
    run (does the node exist? is it a link?) consistent with earlier ones."""

    def __init__(self, root: str, plan: Plan) -> None:
        super().__init__(root)
        self.plan = plan
        self._overlay: dict[str, str | None] = {}  # config path -> planned kind (None: removed)

    def _planned(self, path: str) -> tuple[bool, str | None]:
        p = path
        while True:
            if p in self._overlay:
                kind = self._overlay[p]
                if p == path or kind is None:
                    return True, kind
                return (True, None) if kind != "dir" else (False, None)
            if p == "/":
                return False, None
            p = os.path.dirname(p)

    def kind(self, path: str) -> str | None:
        known, kind = self._planned(path)
        return kind if known else super().kind(path)

    def lstat(self, path: str) -> os.stat_result | None:
        known, _ = self._planned(path)
        return None if known else super().lstat(path)

    def made_by_command(self, path: str, kind: str) -> None:
        # The recorded command would have made it: later decisions see it, the plan lists the command.
        for p in self._parents_missing(path):
            self._overlay[p] = "dir"
        self._overlay[path] = kind

    def _parents_missing(self, path: str) -> list[str]:
        out = []
        cur = os.path.dirname(path)
        while cur != "/" and self.kind(cur) not in ("dir", "link"):
            out.append(cur)
            cur = os.path.dirname(cur)
        return out

    def remove_created(self, created: list[str]) -> None:
        for p in created:
            self._overlay.pop(p, None)

    def makedirs(self, path: str, mode: int = 0o755) -> list[str]:
        created: list[str] = []
        cur = path
        while cur != "/" and self.kind(cur) not in ("dir", "link"):
            created.append(cur)
            cur = os.path.dirname(cur)
        for p in reversed(created):
            self._overlay[p] = "dir"
            self.plan.add("mkdir", p, mode=f"{mode:04o}", owner="0:0")
        return list(reversed(created))

    def write_file(
        self, path: str, data: bytes, mode: int = 0o644, uid: int | None = None, gid: int | None = None
    ) -> None:
        self.makedirs(os.path.dirname(path))
        self._overlay[path] = "file"
        owner = f"{0 if uid is None else uid}:{0 if gid is None else gid}"
        self.plan.add("write", path, type="file", mode=f"{mode:04o}", owner=owner, size=len(data),
                      sha256=_sha256(data))

    def stage(self, directory: str, final: str) -> Staged:
        return CountedFile(final)

    def install(self, path: str, staged: Staged, mode: int = 0o644, uid: int | None = None,
                gid: int | None = None) -> None:
        assert isinstance(staged, CountedFile)
        self.makedirs(os.path.dirname(path))
        self._overlay[path] = "file"
        owner = f"{0 if uid is None else uid}:{0 if gid is None else gid}"
        self.plan.add("write", path, type="file", mode=f"{mode:04o}", owner=owner, size=staged.size,
                      sha256=staged.sha256)

    def stage_inline(self, final: str) -> Staged:
        return CountedFile(final)

    def append_staged(self, path: str, staged: Staged) -> None:
        assert isinstance(staged, CountedFile)
        self.makedirs(os.path.dirname(path))
        self._overlay.setdefault(path, "file")
        self.plan.add("append", path, size=staged.size, sha256=staged.sha256)

    def is_dir(self, path: str) -> bool:
        known, kind = self._planned(path)
        return kind == "dir" if known else super().is_dir(path)

    def remove_all(self, path: str) -> None:
        for p in [p for p in self._overlay if p == path or p.startswith(path.rstrip("/") + "/")]:
            del self._overlay[p]
        self._overlay[path] = None
        self.plan.add("remove", path)

    def mkdir(self, path: str, mode: int) -> None:
        self._overlay[path] = "dir"
        self.plan.add("mkdir", path, mode=f"{mode:04o}")

    def symlink(self, path: str, target: str) -> None:
        self.makedirs(os.path.dirname(path))
        self._overlay[path] = "link"
        self.plan.add("symlink", path, to=target)

    def hardlink(self, path: str, target: str) -> None:
        self.makedirs(os.path.dirname(path))
        self._overlay[path] = "file"
        self.plan.add("hardlink", path, to=target)

    def append(self, path: str, data: bytes) -> None:
        self.makedirs(os.path.dirname(path))
        self._overlay.setdefault(path, "file")
        self.plan.add("append", path, size=len(data), sha256=_sha256(data))

    def chmod(self, path: str, mode: int) -> None:
        self.plan.add("chmod", path, mode=f"{mode:04o}")

    def sync(self) -> None:
        return None

    def chown(self, path: str, uid: int | None, gid: int | None) -> None:
        self.plan.add("chown", path, owner=f"{'-' if uid is None else uid}:{'-' if gid is None else gid}")
