"""The streaming contract (issue 13): sources write bounded chunks into a
pipeline that gunzips and hashes on the fly; files are staged on the target
and renamed into place only when every fetch succeeded; strays of a killed
run are removed; configs read into memory are capped."""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import socket
import threading
from pathlib import Path

import pytest

from ignition.errors import FetchError, StageError
from ignition.log import Logger
from ignition.resources import stream
from ignition.resources.fetcher import Fetcher
from ignition.resources.stream import CHUNK, MemorySink, Pipeline
from ignition.stages.files.nodes import apply_nodes
from tests.unit.logsink import ListSink
from tests.unit.test_files_support import config, data_url, gz_url, make_env, sha512, snapshot, text_url


class Recorder:
    """A sink that keeps the chunks it was given, to look at their sizes."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.resets = 0

    def write(self, data: bytes) -> None:
        self.chunks.append(bytes(data))

    def reset(self) -> None:
        self.chunks.clear()
        self.resets += 1

    def close(self) -> None:
        return None

    def discard(self) -> None:
        self.chunks.clear()

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


def feed(pipe: Pipeline, raw: bytes, seed: int) -> None:
    rnd = random.Random(seed)
    i = 0
    while i < len(raw):
        n = rnd.choice((1, 7, 512, 4096, 100_000))
        pipe.write(raw[i:i + n])
        i += n
    pipe.finish()


@pytest.mark.parametrize("seed", range(5))
def test_gzip_split_anywhere_gives_the_same_bytes(seed: int) -> None:
    data = random.Random(seed).randbytes(300_000) + b"a" * 500_000
    out = Recorder()
    feed(Pipeline(out, "gzip", sha512(data), "test"), gzip.compress(data), seed)
    assert out.data == data


def test_concatenated_gzip_members_are_one_stream() -> None:
    out = Recorder()
    raw = gzip.compress(b"one ") + gzip.compress(b"two") + b"\0\0"
    feed(Pipeline(out, "gzip", None, "test"), raw, 0)
    assert out.data == b"one two"


def test_a_gzip_bomb_reaches_the_sink_in_bounded_chunks() -> None:
    """64 MiB of zeros compress to 64 KiB; given in one write, the output still
    comes in pieces of at most CHUNK bytes."""
    size = 64 << 20
    raw = gzip.compress(bytes(size), compresslevel=9)
    out = Recorder()
    sizes: list[int] = []
    out.write = lambda data: sizes.append(len(data))  # type: ignore[method-assign]
    pipe = Pipeline(out, "gzip", None, "bomb")
    pipe.write(raw)
    pipe.finish()
    assert sum(sizes) == size
    assert max(sizes) <= CHUNK


def test_truncated_gzip_fails() -> None:
    raw = gzip.compress(b"x" * 100_000)
    with pytest.raises(FetchError, match="ends before the end"):
        feed(Pipeline(Recorder(), "gzip", None, "cut"), raw[:-10], 0)


def test_garbage_is_not_gzip() -> None:
    with pytest.raises(FetchError, match="not valid gzip"):
        feed(Pipeline(Recorder(), "gzip", None, "junk"), b"this is not gzip at all", 0)


def test_hash_is_of_the_decompressed_bytes() -> None:
    data = b"payload" * 1000
    with pytest.raises(FetchError, match="hash verification failed"):
        feed(Pipeline(Recorder(), "gzip", sha512(gzip.compress(data)), "h"), gzip.compress(data), 0)


def test_reset_starts_decompression_and_hash_over() -> None:
    data = b"abc" * 50_000
    out = Recorder()
    pipe = Pipeline(out, "gzip", "sha256-" + hashlib.sha256(data).hexdigest(), "r")
    raw = gzip.compress(data)
    pipe.write(raw[: len(raw) // 2])
    pipe.reset()
    feed(pipe, raw, 1)
    assert out.data == data and out.resets == 1


def test_config_read_into_memory_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "MEMORY_LIMIT", 1 << 20)
    fetcher = Fetcher(Logger(ListSink()))
    assert fetcher.fetch(data_url(b"x" * (1 << 20))) == b"x" * (1 << 20)
    with pytest.raises(FetchError, match="larger than 1 MiB"):
        fetcher.fetch(data_url(b"x" * ((1 << 20) + 1)))


def test_memory_sink_without_limit_keeps_everything() -> None:
    sink = MemorySink("u", limit=None)
    for _ in range(10):
        sink.write(b"y" * CHUNK)
    assert sink.getvalue() == b"y" * CHUNK * 10


# files stage: staging on the target


def stray_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".ignition-stage-*"))


def test_files_are_staged_next_to_their_place_and_renamed(tmp_path: Path) -> None:
    big = random.Random(3).randbytes(3 * CHUNK + 5)
    e = make_env(tmp_path, config(storage={"files": [
        {"path": "/etc/app/big.bin", "contents": {"source": gz_url(big), "compression": "gzip",
                                                  "verification": {"hash": sha512(big)}},
         "append": [{"source": text_url("tail")}]},
        {"path": "/opt/x", "contents": {"source": text_url("x")}}]}))
    (e.root / "etc").mkdir()
    apply_nodes(e.ctx)
    assert e.p("/etc/app/big.bin").read_bytes() == big + b"tail"
    assert e.p("/opt/x").read_bytes() == b"x"
    assert stray_files(e.root) == []


def test_a_failed_fetch_leaves_no_staged_file_and_no_final_file(tmp_path: Path) -> None:
    e = make_env(tmp_path, config(storage={"files": [
        {"path": "/etc/a", "contents": {"source": data_url(b"a" * 200_000)}},
        {"path": "/etc/b", "contents": {"source": text_url("b"), "verification": {"hash": sha512(b"not b")}}},
        {"path": "/etc/c", "contents": {"source": text_url("c")}}]}))
    (e.root / "etc").mkdir()
    before = snapshot(e.root)
    with pytest.raises(StageError, match=r"storage\.files\.1 .*hash verification failed"):
        apply_nodes(e.ctx)
    assert snapshot(e.root) == before


def test_a_failed_node_leaves_the_later_staged_files_behind_it_removed(tmp_path: Path) -> None:
    """All fetches succeed; the second node fails while being written: the
    third one's staged contents are removed, the first one's file stays."""
    e = make_env(tmp_path, config(storage={"files": [
        {"path": "/etc/a", "contents": {"source": text_url("a")}},
        {"path": "/etc/b", "contents": {"source": text_url("b")}},
        {"path": "/etc/c", "contents": {"source": text_url("c")}}]}))
    (e.root / "etc").mkdir()
    (e.root / "etc/b").write_text("old")  # overwrite is false: writing /etc/b fails
    with pytest.raises(StageError, match=r"storage\.files\.1"):
        apply_nodes(e.ctx)
    assert e.p("/etc/a").read_bytes() == b"a"
    assert not e.p("/etc/c").exists()
    assert stray_files(e.root) == []


def test_strays_of_a_killed_run_are_removed_and_nothing_else(tmp_path: Path) -> None:
    e = make_env(tmp_path, config(storage={"files": [{"path": "/etc/deep/f", "contents": {"source": text_url("f")}}]}))
    (e.root / "etc").mkdir()
    (e.root / ".ignition-stage-0123456789ab").write_bytes(b"half")
    (e.root / "etc/.ignition-stage-ba9876543210").write_bytes(b"half")
    (e.root / "etc/.ignition-stage-notours").write_bytes(b"keep")
    (e.root / "etc/.ignition-0123456789ab").write_bytes(b"keep")
    apply_nodes(e.ctx)
    assert stray_files(e.root) == ["etc/.ignition-stage-notours"]
    assert (e.root / "etc/.ignition-0123456789ab").read_bytes() == b"keep"
    assert e.p("/etc/deep/f").read_bytes() == b"f"
    logged = [m for _, m, _ in e.sink.entries]
    assert "files: removed /etc/.ignition-stage-ba9876543210, a temporary file left by an earlier run" in logged


def test_staging_avoids_a_directory_that_overwrite_removes(tmp_path: Path) -> None:
    """The directory entry /srv/d (overwrite) removes the existing /srv/d
    before /srv/d/sub/f is written: the file's contents must not have been
    staged in /srv/d, or they would go with it."""
    e = make_env(tmp_path, config(storage={
        "directories": [{"path": "/srv/d", "overwrite": True}],
        "files": [{"path": "/srv/d/sub/f", "contents": {"source": text_url("data")}}]}))
    (e.root / "srv/d").mkdir(parents=True)
    (e.root / "srv/d/old").write_text("old")
    apply_nodes(e.ctx)
    assert e.p("/srv/d/sub/f").read_bytes() == b"data"
    assert not e.p("/srv/d/old").exists()
    assert stray_files(e.root) == []


def test_dry_run_stages_nothing_and_plans_size_and_digest(tmp_path: Path) -> None:
    data = b"z" * (2 * CHUNK + 1)
    e = make_env(tmp_path, config(storage={"files": [
        {"path": "/etc/z", "contents": {"source": gz_url(data), "compression": "gzip"}}]}), dry=True)
    before = snapshot(tmp_path)
    apply_nodes(e.ctx)
    assert snapshot(tmp_path) == before
    assert e.plan is not None
    write = next(x for x in e.plan.entries if x.action == "write" and x.target == "/etc/z")
    assert dict(write.details)["size"] == str(len(data))
    assert dict(write.details)["sha256"] == hashlib.sha256(data).hexdigest()


# HTTP: a retried attempt starts the sink over


class _BrokenThenGood:
    """First answer: a chunked body that breaks after 5 bytes; then the real one."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.count = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/f"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                self.count += 1
                if self.count == 1:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nWRONG\r\nzz\r\n")
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nright")


@pytest.mark.allow_socket
def test_retried_attempt_starts_the_sink_over() -> None:
    srv = _BrokenThenGood()
    try:
        sink = Recorder()
        Fetcher(Logger(ListSink())).fetch_into(srv.url, sink)
    finally:
        srv.sock.close()
    assert srv.count == 2
    assert sink.data == b"right" and sink.resets == 1


def test_temp_names_are_recognisable(tmp_path: Path) -> None:
    from ignition.staged import StagedFile
    from ignition.tmpfile import STRAY

    s = StagedFile(str(tmp_path), "/f")
    s.write(b"x")
    assert s.path is not None and STRAY.fullmatch(os.path.basename(s.path))
    s.discard()
    assert list(tmp_path.iterdir()) == []


def test_install_across_filesystems_copies_then_renames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rename that crosses filesystems (EXDEV, simulated: one directory
    here) falls back to a copy next to the final path and a rename there."""
    import errno

    from ignition.staged import StagedFile

    (tmp_path / "stage").mkdir()
    (tmp_path / "final").mkdir()
    s = StagedFile(str(tmp_path / "stage"), "/final/f")
    data = random.Random(5).randbytes(3 << 20)
    stream.write_chunked(s, data)
    s.close()
    real_rename = os.rename

    def rename(src: str, dst: str) -> None:
        if os.path.dirname(src) != os.path.dirname(dst):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    s.install(str(tmp_path / "final/f"), 0o640, None, None)
    assert (tmp_path / "final/f").read_bytes() == data
    assert oct((tmp_path / "final/f").stat().st_mode & 0o777) == oct(0o640)
    assert list((tmp_path / "stage").iterdir()) == []
    assert [p.name for p in (tmp_path / "final").iterdir()] == ["f"]


def test_zero_padding_is_allowed_after_a_member_only() -> None:
    out = Recorder()
    feed(Pipeline(out, "gzip", None, "pad"), gzip.compress(b"x") + b"\0" * 700, 2)
    assert out.data == b"x"
    with pytest.raises(FetchError, match="not valid gzip"):
        feed(Pipeline(Recorder(), "gzip", None, "lead"), b"\0\0" + gzip.compress(b"x"), 2)


def test_a_nul_byte_in_a_path_is_an_operator_error(tmp_path: Path) -> None:
    """A unit name with a NUL byte passes validation today; writing it must
    fail with one line, not ValueError."""
    from ignition.errors import IgnitionError
    from ignition.sysroot import Sysroot

    with pytest.raises(IgnitionError, match="NUL byte"):
        Sysroot(str(tmp_path)).write_file("/etc/systemd/system/a\0.service", b"")
    assert list(tmp_path.iterdir()) == []
