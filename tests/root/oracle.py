"""Running Debian's Go Ignition (2.14) and ours on identical starting trees,
and comparing what they leave behind.

Go Ignition's files stage needs, on a plain directory: /etc/selinux/config
naming a policy and a `setfiles` on PATH (it always relabels), shadow files,
and every parent of the root traversable (it writes SSH keys as the user).
The harness gives both implementations the same tree; only Go gets the
no-op setfiles (ours skips relabeling when the policy has no file_contexts).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GO_IGNITION = "/usr/lib/dracut/modules.d/30ignition/ignition"
OURS = os.path.join(os.path.dirname(sys.executable), "ignition")

BASE_FILES = {
    "etc/passwd": ("root:x:0:0:root:/root:/bin/sh\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
                   "oracletest:x:4242:4343::/home/oracletest:/bin/sh\n", 0o644),
    "etc/group": "root:x:0:\nbin:x:2:\nwheel:x:10:\nusers:x:100:\noracletestgrp:x:4343:\n",
    "etc/shadow": ("root:*:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\noracletest:*:19000:0:99999:7:::\n",
                   0o600),
    "etc/gshadow": ("root:*::\nbin:*::\nwheel:*::\nusers:*::\noracletestgrp:*::\n", 0o600),
    "etc/selinux/config": "SELINUX=permissive\nSELINUXTYPE=oracletest\n",
    "etc/login.defs": "USERGROUPS_ENAB yes\nUID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\n"
                      "SYS_UID_MIN 100\nSYS_UID_MAX 999\nSYS_GID_MIN 100\nSYS_GID_MAX 999\n",
}
BASE_DIRS = ["etc/skel", "home", "var", "usr/bin", "root"]


def make_base_tree(root: Path) -> None:
    root.mkdir(parents=True)
    for d in BASE_DIRS:
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "root").chmod(0o700)
    for rel, spec in BASE_FILES.items():
        text, mode = spec if isinstance(spec, tuple) else (spec, 0o644)
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        p.chmod(mode)
    (root / "etc/skel/.profile").write_text("# skel\n")
    home = root / "home/oracletest"
    home.mkdir(parents=True)
    os.chown(home, 4242, 4343)


@dataclass
class Run:
    rc: int
    log: str


def run_stages(binary: str, work: Path, config: dict[str, Any], stages: list[str], extra_path: str = "") -> Run:
    """Run `stages` in order against work/root; stop at the first failure."""
    (work / "run").mkdir(exist_ok=True)  # as /run exists in the initramfs; Go does not create it
    cfg = work / "config.ign"
    cfg.write_text(json.dumps(config))
    (work / "cmdline").write_text("ignition.firstboot\n")
    env = dict(os.environ, IGNITION_CONFIG_FILE=str(cfg), IGNITION_KERNEL_CMDLINE_PATH=str(work / "cmdline"),
               IGNITION_SYSTEM_CONFIG_DIR=str(work / "sys"), IGNITION_SYSTEM_LOCAL_CONFIG_DIR=str(work / "local"),
               IGNITION_SYSTEM_RUNTIME_CONFIG_DIR=str(work / "runtime"),
               IGNITION_JOURNAL_SOCKET=str(work / "no-journal"))
    if extra_path:
        env["PATH"] = extra_path + ":" + env["PATH"]
    log = []
    for stage in stages:
        argv = [binary, "-platform", "file", "-stage", stage, "-root", str(work / "root"),
                "-config-cache", str(work / "run/ignition.json"), "-state-file", str(work / "run/state"),
                "-neednet", str(work / "run/neednet"), "-log-to-stdout"]
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False, cwd=work)
        log.append(f"$ {stage}\n{p.stdout}{p.stderr}")
        if p.returncode != 0:
            return Run(p.returncode, "\n".join(log))
    return Run(0, "\n".join(log))


def noop_setfiles(bindir: Path) -> str:
    bindir.mkdir(parents=True, exist_ok=True)
    f = bindir / "setfiles"
    f.write_text("#!/bin/sh\ncat >/dev/null\nexit 0\n")
    f.chmod(0o755)
    return str(bindir)


# Files whose contents legitimately differ between two runs (time, boot id),
# or that only one implementation keeps as a by-product.
VOLATILE = {"etc/.ignition-result.json"}
BYPRODUCTS = {"etc/passwd-", "etc/group-", "etc/shadow-", "etc/gshadow-", "etc/.pwd.lock",
              "etc/subuid-", "etc/subgid-"}


def snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """type, mode, uid, gid, content hash / link target of every node."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            if rel in BYPRODUCTS:
                continue
            st = os.lstat(p)
            base: tuple[Any, ...] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = (*base, os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                data = Path(p).read_bytes()
                if rel == "etc/systemd/system-preset/20-ignition.preset":
                    data = b"".join(sorted(data.splitlines(keepends=True)))  # 2.14's order is not stable
                if rel in VOLATILE:
                    data = json.dumps(sorted(json.loads(data))).encode()
                out[rel] = (*base, hashlib.sha256(data).hexdigest())
            else:
                out[rel] = base
    return out


def diff(a: dict[str, tuple[Any, ...]], b: dict[str, tuple[Any, ...]]) -> list[str]:
    lines = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            lines.append(f"{k}: go={a.get(k)} ours={b.get(k)}")
    return lines
