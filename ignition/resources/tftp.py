"""A minimal TFTP client (RFC 1350): read requests in octet mode, 512-byte
blocks, one ACK per block, retransmission of the last packet on timeout.

Ignition fetches `tftp://host[:port]/path` with github.com/pin/tftp without
options (no blksize/tsize), default port 69, and sends the URL's path as the
file name, leading slash included; this client does the same.
"""

from __future__ import annotations

import socket
import struct
import time
from urllib.parse import unquote, urlsplit

from ignition import redact
from ignition.errors import FetchError
from ignition.resources import cancel
from ignition.resources.stream import MemorySink, Writer

DEFAULT_PORT = 69
BLOCK_SIZE = 512
OP_RRQ, OP_DATA, OP_ACK, OP_ERROR = 1, 3, 4, 5
DEFAULT_TIMEOUT = 5.0  # seconds per packet, as pin/tftp's default
DEFAULT_RETRIES = 5
CANCEL_CHECK = 0.2  # seconds between looks at the cancel event while waiting for a packet


def get(url: str, *, timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES) -> bytes:
    """The whole file at `url` in memory, or FetchError."""
    sink = MemorySink(redact.url(url), limit=None)
    get_into(url, sink, timeout=timeout, retries=retries)
    return sink.getvalue()


def get_into(url: str, sink: Writer, *, timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES) -> None:
    """Stream the file at `url` into `sink` block by block, or FetchError."""
    shown = redact.url(url)
    parts = urlsplit(url)
    if parts.scheme != "tftp" or not parts.hostname:
        raise FetchError(f"not a tftp://host/path URL: {shown}")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError as e:
        raise FetchError(f"invalid port in {shown}") from e
    filename = unquote(parts.path)
    if not filename:
        raise FetchError(f"no file name in {shown}")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_DGRAM)
    except OSError as e:
        raise FetchError(f"TFTP {shown}: cannot resolve the host: {e.strerror or e}") from e
    family, _, _, _, server = infos[0]
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(min(timeout, CANCEL_CHECK))
        _receive(sock, sink, server, filename, shown, retries, timeout)


def _receive(sock: socket.socket, sink: Writer, server: tuple[object, ...], filename: str, shown: str,
             retries: int, timeout: float = DEFAULT_TIMEOUT) -> None:
    stop = cancel.current()  # set when a sibling fetch failed for good: no more retransmissions
    last_packet = struct.pack("!H", OP_RRQ) + filename.encode() + b"\0octet\0"
    send_to: tuple[object, ...] = server
    peer: tuple[object, ...] | None = None  # the server's transfer ID, fixed by its first reply
    expected = 1
    received = 0
    tries = 0
    sock.sendto(last_packet, send_to)
    deadline = time.monotonic() + timeout  # for the answer to the last packet sent
    while True:
        try:
            packet, addr = sock.recvfrom(4 + BLOCK_SIZE + 64)
        except TimeoutError:
            if stop is not None and stop.is_set():
                raise cancel.Cancelled(f"TFTP {shown}: stopped, another fetch failed") from None
            if time.monotonic() < deadline:
                continue
            tries += 1
            if tries > retries:
                raise FetchError(
                    f"TFTP {shown}: no answer after {retries + 1} tries "
                    f"(block {expected}, {received} bytes received)"
                ) from None
            sock.sendto(last_packet, send_to)
            deadline = time.monotonic() + timeout
            continue
        except OSError as e:
            raise FetchError(f"TFTP {shown}: {e.strerror or e}") from e
        if peer is None and addr[0] == server[0]:
            peer = addr
            send_to = addr
        if addr != peer:
            # RFC 1350: a packet from another transfer ID gets an error, ours goes on.
            sock.sendto(_error_packet(5, "Unknown transfer ID"), addr)
            continue
        if len(packet) < 4:
            continue
        opcode, arg = struct.unpack("!HH", packet[:4])
        if opcode == OP_ERROR:
            message = packet[4:].split(b"\0", 1)[0].decode("utf-8", "replace")
            raise FetchError(f"TFTP {shown}: server error {arg}: {message or 'no message'}")
        if opcode != OP_DATA:
            sock.sendto(_error_packet(4, "Illegal TFTP operation"), addr)
            raise FetchError(f"TFTP {shown}: unexpected packet (opcode {opcode})")
        if arg == expected:
            data = packet[4:]
            sink.write(data)
            received += len(data)
            last_packet = struct.pack("!HH", OP_ACK, arg)
            sock.sendto(last_packet, send_to)
            deadline = time.monotonic() + timeout
            tries = 0
            if len(data) < BLOCK_SIZE:
                return
            expected = (expected + 1) % 65536  # block numbers wrap, as most servers do
        elif received and arg == (expected - 1) % 65536:
            # A duplicate of the block we acknowledged: our ACK was lost, send it again.
            sock.sendto(last_packet, send_to)


def _error_packet(code: int, message: str) -> bytes:
    return struct.pack("!HH", OP_ERROR, code) + message.encode() + b"\0"
