"""The one way bytes travel from a source to where they are kept: a Sink.

Every scheme (http(s), s3, gs, tftp, data) writes what it receives into a
Sink in bounded chunks; nothing is accumulated on the way. `Pipeline` sits
between the scheme and the caller's sink: it gunzips on the fly with a bounded
output per step (a gzip bomb costs disk, not memory), hashes the decompressed
bytes as Ignition verifies them, and counts them.

Sinks: `MemorySink` for what is parsed in memory (configs, CA bundles, key
files), with a size cap; the files stage's staged files on the target
(ignition/staged.py). A retried HTTP attempt starts over, so a sink can be
`reset`. `close` is called once everything arrived and was verified,
`discard` on any failure: it removes whatever the sink kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ignition.errors import FetchError

if TYPE_CHECKING:
    import zlib

CHUNK = 1 << 16  # bytes per read and per decompression step
HASH_FUNCTIONS = {"sha512": 128, "sha256": 64}  # hex digits of each digest
# Configs, CA bundles and key files are parsed in memory; this bounds them (Go has no
# limit). Real configs are kilobytes; a file's contents belong in storage.files.
MEMORY_LIMIT = 64 << 20


class Writer(Protocol):
    """What a scheme writes the bytes it receives into."""

    def write(self, data: bytes) -> None: ...

    def reset(self) -> None:
        """Forget what was written: a retried attempt starts over."""


class Sink(Writer, Protocol):
    """Where a fetch ends: closed when complete and verified, discarded on failure."""

    def close(self) -> None:
        """Everything arrived and was verified."""

    def discard(self) -> None:
        """The fetch failed: drop whatever was kept."""


class MemorySink:
    """The bytes in memory, at most `limit` of them (None: no limit, for
    callers that know their documents are small, e.g. metadata services)."""

    def __init__(self, shown: str, limit: int | None) -> None:
        self.shown = shown
        self.limit = limit
        self._chunks: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise FetchError(f"{self.shown} is larger than {self.limit >> 20} MiB, the limit for a config, "
                             "CA bundle or key file (these are read into memory): serve a smaller one")
        self._chunks.append(bytes(data))

    def reset(self) -> None:
        self._chunks.clear()
        self.size = 0

    def close(self) -> None:
        return None

    def discard(self) -> None:
        self.reset()

    def getvalue(self) -> bytes:
        return b"".join(self._chunks)


def check_hash_spec(spec: str) -> tuple[str, str]:
    """(function, lowercase hex digest) of `sha512-<hex>`/`sha256-<hex>`."""
    fn, sep, want = spec.partition("-")
    hexdigits = set("0123456789abcdefABCDEF")
    if not sep or fn not in HASH_FUNCTIONS or len(want) != HASH_FUNCTIONS[fn] or not set(want) <= hexdigits:
        raise FetchError(f"malformed hash specifier {spec!r}: use sha512-<128 hex> or sha256-<64 hex>")
    return fn, want.lower()


class Pipeline:
    """Raw bytes in (as the source sends them), decompressed and hashed bytes
    out to `out`. `finish` ends the stream: the gzip data must be complete
    and the hash must match."""

    def __init__(self, out: Sink, compression: str | None, verification: str | None, shown: str) -> None:
        if compression and compression != "gzip":
            raise FetchError(f"invalid compression method {compression!r} for {shown}; use gzip or none")
        self.out = out
        self.shown = shown
        self.gzip = bool(compression)
        self.spec = verification
        self.want: tuple[str, str] | None = check_hash_spec(verification) if verification else None
        self.size = 0  # decompressed bytes passed on
        self._start()

    def _start(self) -> None:
        self.size = 0
        self._hash: Any = None
        if self.want is not None:
            import hashlib  # OpenSSL's set-up only when something is verified

            self._hash = hashlib.new(self.want[0])
        self._inflate: zlib._Decompress | None = None
        self._member_started = False
        self._members_done = 0
        if self.gzip:
            self._new_member()

    def _new_member(self) -> None:
        import zlib  # a stage that decompresses nothing starts faster without it

        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing, one member
        self._member_started = False

    def reset(self) -> None:
        self.out.reset()
        self._start()

    def write(self, raw: bytes) -> None:
        if not raw:
            return
        if self._inflate is None:
            self._emit(raw)
            return
        import zlib

        data = raw
        while True:
            inflate = self._inflate
            if not self._member_started:
                if self._members_done:
                    data = data.lstrip(b"\0")  # zero padding after a member, as gzip(1) allows
                if not data:
                    return
                self._member_started = True
            try:
                out = inflate.decompress(data, CHUNK)
            except zlib.error as e:
                raise FetchError(f"{self.shown} is not valid gzip data: {e}") from e
            self._emit(out)
            data = inflate.unconsumed_tail
            if inflate.eof:
                # Concatenated members are one stream, as gzip(1) and Go read them.
                data = inflate.unused_data
                self._members_done += 1
                self._new_member()
                if not data:
                    return
                continue
            if not data and len(out) < CHUNK:
                return  # input used up and no output pending

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self._hash is not None:
            self._hash.update(data)
        self.out.write(data)

    def finish(self) -> None:
        if self._inflate is not None and self._member_started:
            raise FetchError(f"{self.shown} is not valid gzip data: the stream ends before the end of "
                             "its last member")
        if self.want is not None:
            import hmac

            fn, want = self.want
            got = self._hash.hexdigest()
            if not hmac.compare_digest(got, want):
                raise FetchError(f"hash verification failed for {self.shown} "
                                 f"(calculated {fn}-{got} but expected {self.spec})")


def write_chunked(sink: Writer, data: bytes) -> None:
    """Pass bytes already in memory (a data URL) on in CHUNK slices."""
    view = memoryview(data)
    for i in range(0, len(view), CHUNK):
        sink.write(bytes(view[i:i + CHUNK]))
