"""Large contents stream to the target in bounded memory (issue 13).

Our `ignition` runs fetch-offline, fetch and files (`-platform file`) as a
child process under an address-space limit (`prlimit --as`), against a local
HTTP server that generates its bodies without holding them
(tests/root/streamserver.py). The limit, 384 MiB, is several times what the
streaming stage needs (about 35 MiB peak RSS) and less than what any of these
configs needs if contents are held in memory: the code before streaming
fails each case here with "internal error (MemoryError)". The sizes are the
issue's: one 2 GiB file (plain and gzip, each with its sha512) and six 256 MiB
files; bench/bench_stream.py measures their peak RSS against Go's.

A gzip bomb onto a small loop-mounted ext4 ends in one clean error naming
the file and the filesystem, with no temp file and no final file left.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.root.oracle import OURS, make_base_tree, run_stages
from tests.root.streamserver import MIB, StreamServer, digest

pytestmark = pytest.mark.root

AS_LIMIT = 384 * MIB
STAGES = ["fetch-offline", "fetch", "files"]


@pytest.fixture(scope="module")
def server() -> Iterator[StreamServer]:
    srv = StreamServer()
    yield srv
    srv.close()


@pytest.fixture
def work() -> Iterator[Path]:
    """A work tree on a disk-backed filesystem (/tmp may be RAM elsewhere)."""
    base = Path("/var/tmp")
    w = base / f"ignition-stream-test-{os.getpid()}"
    shutil.rmtree(w, ignore_errors=True)
    w.mkdir()
    make_base_tree(w / "root")
    yield w
    shutil.rmtree(w, ignore_errors=True)


def limited(work: Path) -> str:
    """Our ignition under the address-space limit (prlimit wants bytes: it
    does not read a G suffix)."""
    wrapper = work / "ignition-limited"
    wrapper.write_text(f"#!/bin/sh\nexec prlimit --as={AS_LIMIT} -- {OURS} \"$@\"\n")
    wrapper.chmod(0o755)
    return str(wrapper)


def config(*files: dict[str, Any]) -> dict[str, Any]:
    return {"ignition": {"version": "3.3.0"}, "storage": {"files": list(files)}}


def sha512_of(path: Path) -> str:
    h = hashlib.sha512()
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            h.update(chunk)
    return "sha512-" + h.hexdigest()


def strays(root: Path) -> list[str]:
    """Temp files of ours: `.ignition-stage-*` and the older `.ignition-` + hex name."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".ignition-*")
                  if p.name != ".ignition-result.json")


@pytest.mark.parametrize("kind", ["plain", "gzip"])
def test_one_large_file_streams_under_a_memory_limit(server: StreamServer, work: Path, kind: str) -> None:
    mib = 2048
    want = digest(mib)
    contents: dict[str, Any] = {"source": server.url(f"/{kind}/{mib}"), "verification": {"hash": want}}
    if kind == "gzip":
        contents["compression"] = "gzip"
    run = run_stages(limited(work), work, config({"path": "/var/big.img", "contents": contents, "mode": 0o600}),
                     STAGES)
    assert run.rc == 0, run.log[-3000:]
    big = work / "root/var/big.img"
    assert big.stat().st_size == mib * MIB
    assert oct(big.stat().st_mode & 0o7777) == oct(0o600)
    assert sha512_of(big) == want
    assert strays(work / "root") == []


def test_six_large_files_in_parallel_under_a_memory_limit(server: StreamServer, work: Path) -> None:
    mib = 256
    want = digest(mib)
    files = [{"path": f"/var/lib/images/part{i}", "contents": {
        "source": server.url(f"/{'gzip' if i % 2 else 'plain'}/{mib}"),
        **({"compression": "gzip"} if i % 2 else {}),
        "verification": {"hash": want}}} for i in range(6)]
    run = run_stages(limited(work), work, config(*files), STAGES)
    assert run.rc == 0, run.log[-3000:]
    for i in range(6):
        assert sha512_of(work / f"root/var/lib/images/part{i}") == want
    assert strays(work / "root") == []


def test_a_bad_hash_on_a_large_file_writes_nothing(server: StreamServer, work: Path) -> None:
    """Every fetch and hash of the stage succeeds before anything is renamed
    into place: the good file streamed first is removed with the bad one."""
    files = [{"path": f"/var/{name}", "contents": {"source": server.url("/plain/64"),
                                                   "verification": {"hash": digest(mib)}}}
             for name, mib in (("good", 64), ("bad", 63))]
    before = sorted(p.name for p in (work / "root/var").iterdir())
    run = run_stages(limited(work), work, config(*files), STAGES)
    assert run.rc == 1
    assert "storage.files.1 (/var/bad)" in run.log and "hash verification failed" in run.log
    assert sorted(p.name for p in (work / "root/var").iterdir()) == before
    assert strays(work / "root") == []


@pytest.fixture
def small_var(work: Path) -> Iterator[Path]:
    """A 32 MiB ext4, loop-mounted at root/var."""
    img = work / "var.img"
    with open(img, "wb") as f:
        f.truncate(32 * MIB)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(img)], check=True, capture_output=True)
    var = work / "root/var"
    subprocess.run(["mount", "-o", "loop", str(img), str(var)], check=True, capture_output=True)
    try:
        yield var
    finally:
        subprocess.run(["umount", str(var)], check=False, capture_output=True)


def test_gzip_bomb_onto_a_small_filesystem_is_a_clean_error(server: StreamServer, work: Path,
                                                             small_var: Path) -> None:
    """256 MiB of zeros in about 250 KiB of gzip, onto a 32 MiB filesystem:
    ENOSPC while staging is one line naming the file and the filesystem; no
    temp file, no final file."""
    before = sorted(p.name for p in small_var.iterdir())
    run = run_stages(limited(work), work, config(
        {"path": "/var/lib/bomb", "contents": {"source": server.url("/zeros-gzip/256"), "compression": "gzip"}}),
        STAGES)
    assert run.rc == 1, run.log[-3000:]
    critical = [ln for ln in run.log.splitlines() if ln.startswith("CRITICAL")]
    assert len(critical) == 1, run.log[-3000:]
    line = critical[0]
    assert "storage.files.0 (/var/lib/bomb)" in line
    assert f"no space left on the filesystem mounted at {small_var}" in line
    assert "internal error" not in run.log
    assert sorted(p.name for p in small_var.iterdir()) == before
    assert strays(work / "root") == []
