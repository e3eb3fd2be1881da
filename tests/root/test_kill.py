"""The files stage killed with SIGKILL at random points (issue 13).

A 5,000-file config (every file `overwrite: true`, so a run may follow a
killed one; a few large remote contents among small data: URLs) runs once
through fetch-offline to make the config cache; then the files stage is
started and killed 20 times at random moments over its running time. After
each kill no final path may hold anything but its complete contents (a
staged file is renamed into place only when complete). A last run to the
end leaves every file complete and none of our temp files anywhere: the
strays of the killed runs are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.root.oracle import OURS, make_base_tree, run_stages
from tests.root.streamserver import MIB, StreamServer, digest

pytestmark = pytest.mark.root

N_FILES = 5000
N_REMOTE = 4
REMOTE_MIB = 16
KILLS = 20


def small_body(i: int) -> bytes:
    return (f"file {i}\n" * (1 + i % 50)).encode()


def make_config(srv: StreamServer) -> tuple[dict[str, Any], dict[str, str]]:
    """The config and each path's expected sha256."""
    files: list[dict[str, Any]] = []
    want: dict[str, str] = {}
    for i in range(N_FILES):
        path = f"/var/kill/d{i % 100}/f{i}"
        body = small_body(i)
        files.append({"path": path, "overwrite": True, "contents": {"source": "data:," + body.decode().replace(
            "\n", "%0A").replace(" ", "%20")}})
        want[path] = hashlib.sha256(body).hexdigest()
    big = hashlib.sha256()
    for _ in range(REMOTE_MIB):
        from tests.root.streamserver import BLOCK

        big.update(BLOCK)
    for i in range(N_REMOTE):
        path = f"/var/kill/big/b{i}"
        files.append({"path": path, "overwrite": True, "contents": {
            "source": srv.url(f"/plain/{REMOTE_MIB}"), "verification": {"hash": digest(REMOTE_MIB)}}})
        want[path] = big.hexdigest()
    return {"ignition": {"version": "3.3.0"}, "storage": {"files": files}}, want


def sha256_of(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while chunk := f.read(MIB):
            h.update(chunk)
    return h.hexdigest()


def ours_temp_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".ignition-*") if p.name != ".ignition-result.json")


def files_argv(work: Path) -> list[str]:
    return [OURS, "-platform", "file", "-stage", "files", "-root", str(work / "root"),
            "-config-cache", str(work / "run/ignition.json"), "-state-file", str(work / "run/state"),
            "-neednet", str(work / "run/neednet"), "-log-to-stdout"]


def env_of(work: Path) -> dict[str, str]:
    return dict(os.environ, IGNITION_CONFIG_FILE=str(work / "config.ign"),
                IGNITION_KERNEL_CMDLINE_PATH=str(work / "cmdline"), IGNITION_SYSTEM_CONFIG_DIR=str(work / "sys"),
                IGNITION_SYSTEM_LOCAL_CONFIG_DIR=str(work / "local"),
                IGNITION_SYSTEM_RUNTIME_CONFIG_DIR=str(work / "runtime"),
                IGNITION_JOURNAL_SOCKET=str(work / "no-journal"))


@pytest.fixture
def work() -> Iterator[Path]:
    w = Path("/var/tmp") / f"ignition-kill-test-{os.getpid()}"
    shutil.rmtree(w, ignore_errors=True)
    w.mkdir()
    make_base_tree(w / "root")
    yield w
    shutil.rmtree(w, ignore_errors=True)


def check_no_partial(root: Path, want: dict[str, str]) -> int:
    """Every final path that exists holds its complete contents; returns how many exist."""
    present = 0
    for path, digest_hex in want.items():
        p = root / path.lstrip("/")
        if p.exists():
            present += 1
            assert sha256_of(p) == digest_hex, f"{path} exists with other contents than the config's"
    return present


def test_sigkill_at_random_points_never_leaves_a_partial_file(work: Path) -> None:
    srv = StreamServer()
    try:
        config, want = make_config(srv)
        first = run_stages(OURS, work, config, ["fetch-offline", "fetch"])
        assert first.rc == 0, first.log[-2000:]
        # One full run sets the time scale; its tree is then wiped for the kills.
        start = time.monotonic()
        full = subprocess.run(files_argv(work), env=env_of(work), capture_output=True, text=True, check=False)
        duration = time.monotonic() - start
        assert full.returncode == 0, full.stdout[-2000:] + full.stderr[-2000:]
        shutil.rmtree(work / "root/var/kill")
        rnd = random.Random(1313)
        killed_with_strays = 0
        for _ in range(KILLS):
            proc = subprocess.Popen(files_argv(work), env=env_of(work), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.05, 1.0) * duration)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            check_no_partial(work / "root", want)
            killed_with_strays += bool(ours_temp_files(work / "root"))
        last = subprocess.run(files_argv(work), env=env_of(work), capture_output=True, text=True, check=False)
        assert last.returncode == 0, last.stdout[-2000:] + last.stderr[-2000:]
        assert check_no_partial(work / "root", want) == len(want)
        assert ours_temp_files(work / "root") == []
        print(f"files stage: {duration:.1f} s; {killed_with_strays} of {KILLS} kills left temp files behind")
    finally:
        srv.close()
    # The config is what the stage saw: written by fetch-offline, read back from the cache.
    assert json.loads((work / "config.ign").read_text())["storage"]["files"][0]["path"] == "/var/kill/d0/f0"
