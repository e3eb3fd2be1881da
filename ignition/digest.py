"""The SHA512 of a config, for the log line every fetch stage writes.

hashlib's import sets up OpenSSL and lists its algorithms: about 5 ms, most
of what a fetch stage with a small config spends hashing. Debian's
interpreter has SHA512 built in (`_sha512`), which needs no set-up and, for a
config's few kilobytes, is as fast. Big contents (verification while
streaming) still go through hashlib, whose OpenSSL code is faster per byte.
"""

from __future__ import annotations


def sha512_hex(data: bytes) -> str:
    try:
        import _sha512  # type: ignore[import-not-found]  # built in (Debian's python3.11), no stub
    except ImportError:  # an interpreter without it
        import hashlib

        return hashlib.sha512(data).hexdigest()
    return str(_sha512.sha512(data).hexdigest())
