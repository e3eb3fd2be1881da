"""`make demo` as a new user runs it: a fresh `git clone` of HEAD, no cache of
its own (VM_CACHE names a directory that does not exist yet, as
vm-tests/.cache does not in a fresh clone), only the downloads shared
(VM_DOWNLOAD_CACHE: the kernel .deb's extraction and the OS packages). The
demo must build everything, boot the VM through to the provisioned OS, and
not fall back to the directory demo."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from vmharness import CACHE, REPO

pytestmark = pytest.mark.vm

DEMO_TIMEOUT = float(os.environ.get("VM_DEMO_TIMEOUT", "1500"))
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_demo_from_a_fresh_clone_boots_the_vm(tmp_path: Path) -> None:
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(REPO), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", head], check=True)
    assert not (clone / "vm-tests" / ".cache").exists()
    cache = tmp_path / "fresh" / "cache"
    (tmp_path / "fresh").mkdir()
    CACHE.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env.update(VM_CACHE=str(cache), VM_DOWNLOAD_CACHE=str(CACHE))
    log = CACHE / "logs" / "demo-fresh-clone" / "demo.out"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.run(["make", "demo"], cwd=clone, env=env, stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT, timeout=DEMO_TIMEOUT, check=False)
    text = _ANSI.sub("", log.read_text(errors="replace"))
    if m := re.search(r"^the disk image is in (/tmp/ignition-demo-vm\.\w+)$", text, re.M):
        shutil.rmtree(m.group(1), ignore_errors=True)  # the demo keeps it for a user to look at; not here
    tail = "\n".join(text.splitlines()[-80:])
    assert "falling back" not in text and "NOT the VM boot" not in text, tail
    assert proc.returncode == 0, f"make demo exited {proc.returncode} (whole output: {log})\n{tail}"
    assert cache.is_dir() and (cache / "initramfs-journey.img").is_file(), tail
    assert list((cache / "os").glob("debian12-*.img")), tail
    # The journey, as the demo shows it: stages, the switch, the OS's own boot.
    assert "files: files stage finished successfully" in text, tail
    assert "umount: umount stage finished successfully" in text, tail
    assert "systemd: Switching root." in text, tail
    assert re.search(r"demo-machine login:", text), tail
    assert re.search(r"demo-record: DEMO-SERVICE demo\.service ran on demo-machine", text), tail
    assert "provisioned and booted" in text, tail
    assert re.search(r"^\s+hostname\s+demo-machine$", text, re.M), tail
    assert re.search(r"^\s+demo-data\s+TYPE=ext4\s+LABEL=demo-data", text, re.M), tail
