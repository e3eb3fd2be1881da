"""ignition/resources/ (data URLs, the fetcher's gunzip and hash checks) and
ignition/redact.py (what may appear in logs and errors)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections.abc import Mapping

import pytest

from ignition import redact
from ignition.errors import FetchError, NeedsNetwork
from ignition.log import Logger
from ignition.resources import dataurl
from ignition.resources.fetcher import Fetcher


class ListSink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        self.lines.append(message + " " + " ".join(fields.values()))


def fetcher(offline: bool = False) -> Fetcher:
    return Fetcher(Logger(ListSink(), stage="files"), offline=offline)


def b64_url(data: bytes, media: str = "", padding: bool = True) -> str:
    encoded = base64.b64encode(data).decode()
    if not padding:
        encoded = encoded.rstrip("=")
    return f"data:{media};base64,{encoded}"


# data URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("data:,hello", b"hello"),
        ("data:,", b""),
        ("data:,hello%20world%0A", b"hello world\n"),
        ("data:,a+b", b"a+b"),  # `+` is not a space outside forms
        ("data:,%00%ff%FE", b"\x00\xff\xfe"),
        ("data:,100%25", b"100%"),
        ("data:,caf%C3%A9", "caf\u00e9".encode()),
        ("data:,a,b,c", b"a,b,c"),  # only the first comma separates
        ("data:text/plain,hi", b"hi"),
        ("data:text/plain;charset=US-ASCII,hi", b"hi"),
        ("data:text/plain;charset=utf-8;base64,aGVsbG8=", b"hello"),
        ("data:application/octet-stream;base64,AAEC", b"\x00\x01\x02"),
        ("data:;base64,aGk=", b"hi"),
        ("data:;base64,aGk", b"hi"),  # padding left off
        ("data:;base64,aA", b"h"),
        ("data:;base64,aGVs\nbG8=", b"hello"),  # line-wrapped base64
        ("data:x-custom/y;a=\"q;u,o\";b=c,hi", b"hi"),  # a quoted value may hold ; and ,
        ("data:,!$&'()*+-./:;=?@_~", b"!$&'()*+-./:;=?@_~"),  # URL characters need no escape
        ("data:;base64,", b""),
    ],
)
def test_data_url_decode(url: str, expected: bytes) -> None:
    assert dataurl.decode(url) == expected


@pytest.mark.parametrize("data", [b"", b"x", b"xy", b"xyz", bytes(range(256)), b"\xff" * 1000])
@pytest.mark.parametrize("padding", [True, False])
def test_data_url_base64_roundtrip(data: bytes, padding: bool) -> None:
    assert dataurl.decode(b64_url(data, "application/x-thing;name=v", padding=padding)) == data


def test_data_url_missing_comma() -> None:
    with pytest.raises(FetchError, match="no ','") as exc:
        dataurl.decode("data:text/plain;base64secretpart")
    assert "secretpart" not in str(exc.value)


@pytest.mark.parametrize(
    "url", ["data:;base64,!!!!", "data:;base64,aGk=aGk=", "data:;base64,a", "data:;base64,aGk====",
            "data:;base64,a%FFb="],
)
def test_data_url_bad_base64(url: str) -> None:
    with pytest.raises(FetchError, match="base64") as exc:
        dataurl.decode(url)
    assert url not in str(exc.value)


@pytest.mark.parametrize(("url", "says"), [
    ("data:,hello world", "a space at data offset 5 must be percent-encoded (%20)"),
    ("data:,a#b", "'#' at data offset 1 must be percent-encoded (%23)"),
    ("data:,tab\there", "byte 0x09 at data offset 3"),
    ("data:,caf\u00e9", "'\u00e9' at data offset 3"),
    ("data:,{x}", "'{' at data offset 0"),
    ("data:,100%", "'%' must start an escape"),
    ("data:,%zz", "'%' must start an escape"),
    ("data:;base64,aGk%3D", "base64 data may hold only"),
    ("data:;base64,aGk =", "base64 data may hold only"),
    ("data:;BASE64,aGk=", "a parameter without '='"),
    ("data:;base64;charset=x,aGk=", "a parameter without '='"),
    ("data:text,hi", "no '/'"),
    ("data:font/woff,hi", "unknown media type 'font'"),
    ("data:text/pl ain,hi", "invalid character in the media type"),
    ("data:text/plain;a=\"x,hi", "unterminated quoted"),
])
def test_data_url_syntax_is_ignitions(url: str, says: str) -> None:
    # What Ignition's data URL parser rejects fails validation here too, instead of the boot.
    with pytest.raises(FetchError, match=re.escape(says)):
        dataurl.decode(url)


def test_data_url_rejects_other_schemes() -> None:
    with pytest.raises(FetchError, match="not a data URL"):
        dataurl.decode("http://example.com/")


# Fetcher


def test_fetch_data_url() -> None:
    assert fetcher().fetch("data:,plain") == b"plain"
    assert fetcher().fetch(b64_url(b"\x00binary\xff")) == b"\x00binary\xff"


def test_fetch_data_url_offline_needs_no_network() -> None:
    assert fetcher(offline=True).fetch("data:,x") == b"x"


def test_fetch_data_url_scheme_is_case_insensitive() -> None:
    # RFC 3986: schemes are case-insensitive; Go's url.Parse (Ignition) lower-cases them.
    assert fetcher().fetch("DATA:,hello") == b"hello"
    assert fetcher().fetch("Data:;base64,aGk=") == b"hi"


def test_fetch_gzip() -> None:
    payload = b"compressed contents\n" * 100
    url = b64_url(gzip.compress(payload))
    assert fetcher().fetch(url, compression="gzip") == payload


def test_fetch_no_compression_keeps_bytes() -> None:
    raw = gzip.compress(b"x")
    assert fetcher().fetch(b64_url(raw), compression=None) == raw
    assert fetcher().fetch(b64_url(raw), compression="") == raw


def test_fetch_invalid_gzip() -> None:
    with pytest.raises(FetchError, match="not valid gzip data") as exc:
        fetcher().fetch("data:,notgzipsecret", compression="gzip")
    assert "notgzipsecret" not in str(exc.value)


def test_fetch_truncated_gzip() -> None:
    with pytest.raises(FetchError, match="not valid gzip data"):
        fetcher().fetch(b64_url(gzip.compress(b"x" * 1000)[:-8]), compression="gzip")


def test_fetch_unknown_compression() -> None:
    with pytest.raises(FetchError, match="invalid compression method 'xz'"):
        fetcher().fetch("data:,x", compression="xz")


@pytest.mark.parametrize("fn", ["sha256", "sha512"])
def test_fetch_hash_good(fn: str) -> None:
    data = b"verified contents\n"
    digest = hashlib.new(fn, data).hexdigest()
    assert fetcher().fetch("data:,verified%20contents%0A", verification=f"{fn}-{digest}") == data
    assert fetcher().fetch("data:,verified%20contents%0A", verification=f"{fn}-{digest.upper()}") == data


@pytest.mark.parametrize("fn", ["sha256", "sha512"])
def test_fetch_hash_bad(fn: str) -> None:
    data = b"tampered"
    got = hashlib.new(fn, data).hexdigest()
    want = hashlib.new(fn, b"original").hexdigest()
    with pytest.raises(FetchError) as exc:
        fetcher().fetch("data:,tampered", verification=f"{fn}-{want}")
    message = str(exc.value)
    assert "hash verification failed" in message
    assert f"calculated {fn}-{got}" in message
    assert f"expected {fn}-{want}" in message
    assert message.index("calculated") < message.index("expected")
    assert "tampered" not in message.replace(got, "").replace(want, "")


def test_fetch_hash_is_of_decompressed_data() -> None:
    payload = b"inner"
    good = "sha512-" + hashlib.sha512(payload).hexdigest()
    url = b64_url(gzip.compress(payload))
    assert fetcher().fetch(url, compression="gzip", verification=good) == payload
    of_compressed = "sha512-" + hashlib.sha512(gzip.compress(payload)).hexdigest()
    with pytest.raises(FetchError, match="hash verification failed"):
        fetcher().fetch(url, compression="gzip", verification=of_compressed)


@pytest.mark.parametrize(
    "spec",
    [
        "sha512",
        "sha512-",
        "sha512-abc",
        "sha512-" + "a" * 64,  # a sha256's length
        "sha256-" + "a" * 128,
        "sha256-" + "a" * 63,
        "md5-" + "a" * 32,
        "sha1-" + "a" * 40,
        "SHA512-" + "a" * 128,
        "-" + "a" * 128,
    ],
)
def test_fetch_malformed_hash_spec(spec: str) -> None:
    with pytest.raises(FetchError, match="malformed hash specifier"):
        fetcher().fetch("data:,x", verification=spec)


@pytest.mark.parametrize(
    "spec",
    ["sha256-" + "z" * 64, "sha256-" + "\u00e9" * 64, "sha512-" + "\u0660" * 128],
    ids=["ascii-non-hex", "latin1", "arabic-indic-digits"],
)
def test_fetch_non_hex_hash_spec_is_a_fetch_error(spec: str) -> None:
    # The config layer does not check the digest's characters, so whatever the config says
    # reaches verify(); it must fail as a FetchError, not crash with another exception.
    with pytest.raises(FetchError):
        fetcher().fetch("data:,x", verification=spec)


@pytest.mark.parametrize("url", ["ftp://example.com/c.ign", "file:///etc/passwd", "/etc/passwd",
                                 "relative/path", "", "mailto:x@y"])
def test_fetch_unsupported_scheme(url: str) -> None:
    with pytest.raises(FetchError, match="unsupported URL scheme") as exc:
        fetcher().fetch(url)
    assert not isinstance(exc.value, NeedsNetwork)


def test_fetch_unparsable_url_is_a_fetch_error() -> None:
    with pytest.raises(FetchError):
        fetcher().fetch("http://[not-an-ipv6/c.ign")


@pytest.mark.parametrize("scheme", ["http", "https", "tftp", "s3", "gs"])
def test_fetch_offline_needs_network(scheme: str) -> None:
    url = f"{scheme}://user:pa55w0rd@host.example/path/c.ign?X-Sig=s1gn4ture&Expires=99887766"
    with pytest.raises(NeedsNetwork) as exc:
        fetcher(offline=True).fetch(url)
    message = str(exc.value)
    assert "host.example/path/c.ign" in message
    for secret in ("pa55w0rd", "s1gn4ture", "99887766"):
        assert secret not in message


def test_fetch_online_error_without_secrets() -> None:
    # An s3 URL with userinfo is no valid bucket: refused before any connection, secrets hidden.
    url = "s3://user:pa55w0rd@host.example/c.ign?token=s3cret"
    with pytest.raises(FetchError) as exc:
        fetcher().fetch(url)
    assert not isinstance(exc.value, NeedsNetwork)
    assert "pa55w0rd" not in str(exc.value)
    assert "s3cret" not in str(exc.value)


def test_fetch_errors_never_quote_data_url() -> None:
    secret = "BEGINPRIVATEKEYabcdef"
    for kwargs in ({"compression": "gzip"}, {"compression": "bzip2"}, {"verification": "sha256-" + "0" * 64},
                   {"verification": "sha256-short"}):
        with pytest.raises(FetchError) as exc:
            fetcher().fetch(f"data:,{secret}", **kwargs)  # type: ignore[arg-type]
        assert secret not in str(exc.value)


# redact


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/config.ign", "https://example.com/config.ign"),
        ("https://core:hunter2@example.com/c.ign", "https://core:***@example.com/c.ign"),
        ("https://tokenonly@example.com/c.ign", "https://***@example.com/c.ign"),
        ("https://u:p%40ss@w@example.com/", "https://u:***@example.com/"),
        ("https://example.com/c.ign?token=abc&x=1", "https://example.com/c.ign?token=***&x=***"),
        ("https://example.com/c.ign?a=b=c", "https://example.com/c.ign?a=***"),
        ("s3://bucket/key?versionId=v123", "s3://bucket/key?versionId=***"),
        ("https://example.com:8443/c.ign", "https://example.com:8443/c.ign"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact.url(url) == expected


def test_redact_url_hides_every_secret_part() -> None:
    url = "https://admin:Sup3rS3cret@10.0.0.1:8080/ign/c.ign?X-Amz-Signature=deadbeef01&X-Amz-Credential=AKIA42#frag"
    shown = redact.url(url)
    for secret in ("Sup3rS3cret", "deadbeef01", "AKIA42"):
        assert secret not in shown
    assert "10.0.0.1:8080/ign/c.ign" in shown
    assert "X-Amz-Signature=***" in shown


@pytest.mark.parametrize(
    "url",
    [
        "data:,ssh-ed25519%20AAAAsecretkey",
        "data:text/plain;base64,c2VjcmV0a2V5",
        "data:;base64," + "QUFB" * 1000,
    ],
)
def test_redact_data_url_to_size(url: str) -> None:
    shown = redact.url(url)
    assert shown == f"data URL ({len(url)} characters)"
    assert "secretkey" not in shown
    assert "c2VjcmV0" not in shown


@pytest.mark.parametrize("url", ["DATA:,secretkeymaterial", "Data:text/plain,secretkeymaterial",
                                 " data:,secretkeymaterial"])
def test_redact_data_url_any_spelling_of_scheme(url: str) -> None:
    # urlsplit treats all of these as data URLs (schemes are case-insensitive, leading blanks
    # are stripped), and the cmdline provider logs redact.url() of whatever the kernel command
    # line says: the redacted form must not show the inline contents.
    shown = redact.url(url)
    assert "secretkeymaterial" not in shown


def test_redact_unparsable_url() -> None:
    assert redact.url("http://user:pw@[broken/x?k=v") == "<unparsable URL>"
