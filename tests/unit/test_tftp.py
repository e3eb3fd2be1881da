"""The TFTP client against a tiny RFC 1350 server thread on 127.0.0.1."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping

import pytest

from ignition.errors import FetchError, NeedsNetwork
from ignition.log import Logger
from ignition.resources import tftp
from ignition.resources.fetcher import Fetcher

pytestmark = pytest.mark.allow_socket

DATA, ACK, ERROR = 3, 4, 5


class TftpServer:
    """Serves `files` read-only; each transfer from its own port (a new TID).
    Knobs simulate a lost request, a duplicated block and a stray packet."""

    def __init__(self, files: Mapping[str, bytes], *, drop_rrqs: int = 0, duplicate_block: int | None = None,
                 stray_before_block: int | None = None) -> None:
        self.files = dict(files)
        self.drop_rrqs = drop_rrqs
        self.duplicate_block = duplicate_block
        self.stray_before_block = stray_before_block
        self.requests: list[tuple[str, str]] = []
        self.acks: list[int] = []
        self.stray_replies: list[bytes] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def acks_seen(self, count: int) -> list[int]:
        """The ACKs received, once `count` have arrived (the client's last ACK
        may still be in flight when get() returns) or after a second."""
        deadline = time.monotonic() + 1.0
        while len(self.acks) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        return list(self.acks)

    def url(self, path: str) -> str:
        return f"tftp://127.0.0.1:{self.port}{path}"

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                packet, client = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            if struct.unpack("!H", packet[:2])[0] != 1:
                continue
            name, mode, _ = packet[2:].split(b"\0", 2)
            self.requests.append((name.decode(), mode.decode()))
            if self.drop_rrqs:
                self.drop_rrqs -= 1
                continue
            self.transfer(name.decode(), client)

    def transfer(self, name: str, client: tuple[str, int]) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as t:
            t.bind(("127.0.0.1", 0))
            data = self.files.get(name)
            if data is None:
                t.sendto(struct.pack("!HH", ERROR, 1) + b"File not found\0", client)
                return
            block = 1
            while True:
                chunk = data[(block - 1) * 512:block * 512]
                packet = struct.pack("!HH", DATA, block % 65536) + chunk
                if block == self.stray_before_block:
                    self.send_stray(client, packet)
                if not self.send_until_acked(t, client, packet, block % 65536):
                    return
                if len(chunk) < 512:
                    return
                block += 1

    def send_until_acked(self, t: socket.socket, client: tuple[str, int], packet: bytes, block: int) -> bool:
        for _ in range(5):
            t.sendto(packet, client)
            if block == self.duplicate_block:
                self.duplicate_block = None
                t.sendto(packet, client)
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                t.settimeout(max(deadline - time.monotonic(), 0.001))
                try:
                    reply, _ = t.recvfrom(2048)
                except TimeoutError:
                    break
                op, number = struct.unpack("!HH", reply[:4])
                if op == ACK and number == block:
                    self.acks.append(number)
                    return True
        return False

    def send_stray(self, client: tuple[str, int], packet: bytes) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(1.0)
            s.sendto(packet[:4] + b"evil", client)
            with contextlib.suppress(TimeoutError):
                self.stray_replies.append(s.recvfrom(2048)[0])

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def payload() -> bytes:
    return os.urandom(512 * 5 + 77)


@pytest.fixture
def make_server() -> Iterator[type[TftpServer]]:
    servers: list[TftpServer] = []

    class Tracked(TftpServer):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            servers.append(self)

    yield Tracked
    for s in servers:
        s.close()


def test_multi_block_file_exact_bytes(make_server: type[TftpServer], payload: bytes) -> None:
    srv = make_server({"/boot/config.ign": payload})
    assert tftp.get(srv.url("/boot/config.ign")) == payload
    # Ignition (pin/tftp) sends the URL's path as the file name, leading slash included, in octet mode.
    assert srv.requests == [("/boot/config.ign", "octet")]
    assert srv.acks_seen(6) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("size", [0, 511, 512, 1024])
def test_sizes_at_block_boundaries(make_server: type[TftpServer], size: int) -> None:
    data = os.urandom(size)
    srv = make_server({"/f": data})
    assert tftp.get(srv.url("/f")) == data
    blocks = size // 512 + 1  # a multiple of 512 ends with an empty block
    assert srv.acks_seen(blocks) == list(range(1, blocks + 1))


def test_lost_request_is_retransmitted(make_server: type[TftpServer], payload: bytes) -> None:
    srv = make_server({"/f": payload}, drop_rrqs=1)
    assert tftp.get(srv.url("/f"), timeout=0.2) == payload
    assert len(srv.requests) == 2


def test_duplicate_block_is_acknowledged_again_and_not_appended(make_server: type[TftpServer],
                                                                 payload: bytes) -> None:
    srv = make_server({"/f": payload}, duplicate_block=2)
    assert tftp.get(srv.url("/f")) == payload


def test_packet_from_another_tid_gets_an_error_and_is_ignored(make_server: type[TftpServer],
                                                              payload: bytes) -> None:
    srv = make_server({"/f": payload}, stray_before_block=2)
    assert tftp.get(srv.url("/f")) == payload
    (reply,) = srv.stray_replies
    assert struct.unpack("!HH", reply[:4]) == (ERROR, 5)


def test_server_error_is_a_fetch_error(make_server: type[TftpServer]) -> None:
    srv = make_server({})
    with pytest.raises(FetchError, match="server error 1: File not found"):
        tftp.get(srv.url("/missing?token=S3cretValue"))


def test_no_answer_gives_up_after_the_retries() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(FetchError, match="no answer after 3 tries"):
            tftp.get(f"tftp://127.0.0.1:{port}/f", timeout=0.05, retries=2)
        assert time.monotonic() - start < 2
        requests = 0
        silent.settimeout(0.1)
        while True:
            try:
                silent.recvfrom(2048)
                requests += 1
            except TimeoutError:
                break
        assert requests == 3


@pytest.mark.parametrize("url", ["tftp:///nohost", "tftp://127.0.0.1", "tftp://127.0.0.1:99999/f"])
def test_malformed_urls(url: str) -> None:
    with pytest.raises(FetchError):
        tftp.get(url)


def test_fetcher_dispatches_tftp_with_verification(make_server: type[TftpServer], payload: bytes) -> None:
    srv = make_server({"/f": payload})
    fetcher = Fetcher(Logger(NullSink()))
    digest = "sha256-" + hashlib.sha256(payload).hexdigest()
    assert fetcher.fetch(srv.url("/f"), verification=digest) == payload
    with pytest.raises(NeedsNetwork):
        Fetcher(Logger(NullSink()), offline=True).fetch(srv.url("/f"))


class NullSink:
    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        pass


def test_a_stopped_fetch_ends_without_waiting_out_its_retries() -> None:
    from ignition.resources import cancel

    stop = threading.Event()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        threading.Timer(0.3, stop.set).start()
        start = time.monotonic()
        with cancel.cancel_scope(stop), pytest.raises(cancel.Cancelled, match="another fetch failed"):
            tftp.get(f"tftp://127.0.0.1:{port}/f", timeout=5, retries=5)  # would take 30 s
        assert time.monotonic() - start < 1.5
