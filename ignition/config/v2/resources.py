"""Resources (config references, CAs, file contents) from spec 2 to 3.1."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ignition.config.report import PathElem
from ignition.config.v2.access import items, obj, put, text
from ignition.config.v2.notes import Notes

# What a 3.1 source may use; "" (no scheme) only for an empty source meaning an empty file.
_SCHEMES_31 = ("http", "https", "s3", "tftp", "data")


def check_source(source: str, path: tuple[PathElem, ...], notes: Notes) -> None:
    if not source:
        return
    scheme = urlsplit(source).scheme.lower()
    if scheme == "oem":
        notes.error(path, "oem:// URLs read Container Linux's OEM partition, which spec 3 cannot "
                    "address: inline the contents as a data URL or serve them over http(s)")
    elif scheme not in _SCHEMES_31:
        notes.error(path, f"URL scheme {scheme or '(none)'} is not supported: use one of "
                    f"{', '.join(_SCHEMES_31)}")


def resource(src: dict[str, Any], path: tuple[PathElem, ...], notes: Notes,
             keep_empty_source: bool = False) -> dict[str, Any]:
    """Spec 3.1 Resource from a spec 2 configReference, CA reference or file contents."""
    out: dict[str, Any] = {}
    source = src.get("source")
    if isinstance(source, str):
        check_source(source, path + ("source",), notes)
        if source or keep_empty_source:
            out["source"] = source
    elif keep_empty_source:
        # Ignition 2 wrote an empty file when a file had no contents; in 3.x an empty source
        # says the same, while no source with overwrite true is invalid.
        out["source"] = ""
    put(out, "compression", text(src, "compression"))
    put(out, "httpHeaders", [_header(h) for h in items(src, "httpHeaders") if isinstance(h, dict)])
    hash_ = obj(src, "verification").get("hash")
    if isinstance(hash_, str):
        function, sep, _ = hash_.partition("-")
        # Spec 3.1, the translation's target, added sha256; Container Linux's specs had
        # only sha512, and a 2.x config must not gain what its own version lacks.
        if sep and function != "sha512":
            notes.error(path + ("verification", "hash"), f"unrecognized hash function {function!r}: "
                        "Container Linux specs (2.x) know only sha512; write sha512-<hex digest>")
        out["verification"] = {"hash": hash_}
    return out


def _header(h: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": h.get("name")}
    put(out, "value", text(h, "value"))
    return out
