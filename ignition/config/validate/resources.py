"""Resources (URLs, compression, verification, HTTP headers) and the `ignition` section.

Messages never quote a source URL: a data URL or a presigned URL may carry a secret."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from ignition.config.report import Report
from ignition.config.types import Ignition, Proxy, Resource
from ignition.config.validate.keys import Path, flag_duplicates
from ignition.errors import FetchError
from ignition.resources import dataurl

_HEX = re.compile(r"[0-9a-fA-F]*\Z")
_HASH_SIZES = {"sha512": 128, "sha256": 64}
_SCHEMES = "http, https, tftp, s3, gs (spec 3.2+), arn (spec 3.4+) or data"


def url_problem(url: str, minor: int) -> str | None:
    """What is wrong with a source URL for a config of spec 3.<minor>, or None."""
    try:
        scheme = _scheme(url)
    except ValueError as e:
        return f"unable to parse url ({e}): fix the URL's syntax"
    if scheme in ("http", "https", "tftp") or (scheme == "gs" and minor >= 2):
        return None
    if scheme == "s3" or (scheme == "arn" and minor >= 4):
        if scheme == "arn":
            problem = _arn_problem(url.split("?", 1)[0])
            if problem:
                return problem
        query = parse_qs(urlsplit(url).query, keep_blank_values=True)
        if "versionId" in query and not query["versionId"][0]:
            return "invalid S3 object VersionId: give versionId a value or drop it from the URL"
        return None
    if scheme == "data":
        try:
            dataurl.decode(url)
        except FetchError as e:
            return f"{e}: fix the data URL's encoding"
        return None
    if scheme == "gs":
        return "invalid url scheme: gs:// URLs need spec 3.2.0 or later; raise ignition.version"
    if scheme == "arn":
        return "invalid url scheme: arn: URLs need spec 3.4.0 or later; raise ignition.version"
    if not scheme:
        return f"invalid url scheme: the URL has none; start it with one of {_SCHEMES}"
    return f"invalid url scheme {scheme!r}: use one of {_SCHEMES}"


def _scheme(url: str) -> str:
    """urlsplit(url).scheme, raising as urlsplit does. A config of 10,000 inline files has
    10,000 data URLs, and urlsplit costs more than the rest of their check: a URL that starts
    with `data:` and has neither an authority (which urlsplit checks and may reject) nor a tab
    or newline (which urlsplit removes first) has the scheme `data`."""
    if url.startswith("data:") and url[5:7] != "//" and not ("\t" in url or "\r" in url or "\n" in url):
        return "data"
    return urlsplit(url).scheme


def _arn_problem(arn: str) -> str | None:
    # arn:partition:service:region:account:resource, as the AWS SDK parses it
    fields = arn.split(":", 5)
    resource = fields[5] if len(fields) == 6 else ""
    ok = len(fields) == 6 and fields[2] == "s3" and (
        len(arn.split("/")) >= (3 if resource.startswith("accesspoint/") else 2))
    if ok:
        return None
    return ("invalid S3 ARN: write arn:aws:s3:::<bucket>/<key> or "
            "arn:aws:s3:<region>:<account>:accesspoint/<name>/object/<key>")


def hash_problem(h: str, minor: int) -> str | None:
    function, sep, digest = h.partition("-")
    if not sep:
        return "malformed hash specifier: write it as sha512-<hex digest> or sha256-<hex digest>"
    if function not in _HASH_SIZES or (function == "sha256" and minor < 1):
        allowed = "sha512 or sha256" if minor >= 1 else "sha512 (sha256 needs spec 3.1.0 or later)"
        return f"unrecognized hash function {function!r}: use {allowed}"
    if len(digest) != _HASH_SIZES[function]:
        return (f"incorrect size for hash sum: a {function} digest has {_HASH_SIZES[function]} "
                f"hex digits, not {len(digest)}")
    if not _HEX.match(digest):
        return "malformed hash specifier: the digest must be hexadecimal (0-9, a-f)"
    return None


def check_resource(report: Report, res: Resource, path: Path, minor: int,
                   require_source: bool = False) -> None:
    source = res.source
    if require_source and not source:
        report.add("error", "source is required: set source to the URL to fetch", path)
    if res.compression not in (None, "", "gzip"):
        report.add("error", f"invalid compression method {res.compression!r}: use \"gzip\" or "
                   "leave compression empty", path + ("compression",))
    hpath = path + ("verification", "hash")
    if res.verification.hash is not None:
        if source is None:
            report.add("error", "source must be specified if verification is specified: set "
                       "source or remove verification", hpath)
        problem = hash_problem(res.verification.hash, minor)
        if problem:
            report.add("error", problem, hpath)
    if source:
        problem = url_problem(source, minor)
        if problem:
            report.add("error", problem, path + ("source",))
    _check_headers(report, res, path)


def _check_headers(report: Report, res: Resource, path: Path) -> None:
    if not res.http_headers:
        return
    hpath = path + ("httpHeaders",)
    if not res.source:
        report.add("error", "unable to parse url: httpHeaders need an http or https source; "
                   "set source or remove httpHeaders", hpath)
    else:
        try:
            scheme = urlsplit(res.source).scheme
        except ValueError:
            scheme = ""  # the source itself is reported
        if scheme and scheme not in ("http", "https"):
            report.add("error", f"cannot use HTTP headers with this source scheme ({scheme}): "
                       "remove httpHeaders or fetch over http/https", hpath)
    for i, header in enumerate(res.http_headers):
        if not header.name:
            report.add("error", "HTTP header name can't be empty: set name", hpath + (i, "name"))
        if header.value == "":
            report.add("error", "unable to parse HTTP header: its value is empty; set a value, or "
                       "leave value out to drop a header inherited from a parent config",
                       hpath + (i, "value"))
    flag_duplicates(report, ((h.name, hpath + (i,), f"header {h.name!r}")
                             for i, h in enumerate(res.http_headers)))


def check_ignition(report: Report, ign: Ignition, minor: int) -> None:
    base: Path = ("ignition", "config")
    for i, res in enumerate(ign.config.merge):
        check_resource(report, res, base + ("merge", i), minor, require_source=True)
    flag_duplicates(report, ((r.source or "", base + ("merge", i), "this merge source")
                             for i, r in enumerate(ign.config.merge)))
    replace = ign.config.replace
    check_resource(report, replace, base + ("replace",), minor)
    cas = ign.security.tls.certificate_authorities
    capath: Path = ("ignition", "security", "tls", "certificateAuthorities")
    for i, res in enumerate(cas):
        check_resource(report, res, capath + (i,), minor, require_source=True)
    flag_duplicates(report, ((r.source or "", capath + (i,), "this certificate authority")
                             for i, r in enumerate(cas)))
    check_proxy(report, ign.proxy)
    flag_duplicates(report, ((n, ("ignition", "proxy", "noProxy", i), f"noProxy entry {n!r}")
                             for i, n in enumerate(ign.proxy.no_proxy)))


def check_proxy(report: Report, proxy: Proxy) -> None:
    for field, value in (("httpProxy", proxy.http_proxy), ("httpsProxy", proxy.https_proxy)):
        if value is None:
            continue
        path: Path = ("ignition", "proxy", field)
        try:
            scheme = urlsplit(value).scheme
        except ValueError as e:
            report.add("error", f"unable to parse url ({e}): fix the proxy URL", path)
            continue
        if scheme not in ("http", "https"):
            report.add("error", "proxies must be http(s): write the proxy as http://host:port "
                       "or https://host:port", path)
        elif scheme == "http" and field == "httpsProxy":
            report.add("warning", "insecure plaintext HTTP proxy specified for HTTPS resources: "
                       "use an https:// proxy if it supports it", path)
