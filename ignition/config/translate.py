"""Up-translation of parsed spec 3.0.0-3.5.0 dicts to spec 3.6.0, one version step at a time.

Ignition unmarshals a config into the Go structs of its own version and then translates struct by
struct. Two consequences are reproduced here on plain dicts:
- a key the source version does not define is lost, even when a later spec defines it (a 3.1
  config with `storage.luks` encrypts nothing). The parser has already warned "unused key" about
  it; `_drop_fields_newer_than` removes it so it cannot come to life in the 3.6 view.
- 3.6 is the first spec to honour setuid/setgid/sticky; older specs mask them out of modes.
"""

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ignition.record import record

LATEST = "3.6.0"
VERSIONS = ("3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", LATEST)

_SPECIAL_MODE_BITS = 0o7000


@record(kw_only=False)
class TranslationWarning:
    """A field that a translation to an older or newer spec changed or dropped."""

    path: str  # JSON path, e.g. "$.storage.files.0.mode"
    message: str


# Fields introduced after 3.0.0, as (first spec that has it, path); "*" walks a list's entries.
_ADDED_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("3.1.0", ("ignition", "proxy")),
    ("3.1.0", ("ignition", "config", "merge", "*", "compression")),
    ("3.1.0", ("ignition", "config", "merge", "*", "httpHeaders")),
    ("3.1.0", ("ignition", "config", "replace", "compression")),
    ("3.1.0", ("ignition", "config", "replace", "httpHeaders")),
    ("3.1.0", ("ignition", "security", "tls", "certificateAuthorities", "*", "compression")),
    ("3.1.0", ("ignition", "security", "tls", "certificateAuthorities", "*", "httpHeaders")),
    ("3.1.0", ("storage", "files", "*", "contents", "httpHeaders")),
    ("3.1.0", ("storage", "files", "*", "append", "*", "httpHeaders")),
    ("3.1.0", ("storage", "filesystems", "*", "mountOptions")),
    ("3.2.0", ("storage", "disks", "*", "partitions", "*", "resize")),
    ("3.2.0", ("storage", "luks")),
    ("3.2.0", ("passwd", "users", "*", "shouldExist")),
    ("3.2.0", ("passwd", "groups", "*", "shouldExist")),
    ("3.3.0", ("kernelArguments",)),
    ("3.4.0", ("storage", "luks", "*", "discard")),
    ("3.4.0", ("storage", "luks", "*", "openOptions")),
    ("3.4.0", ("storage", "luks", "*", "clevis", "tang", "*", "advertisement")),
    ("3.5.0", ("storage", "luks", "*", "cex")),
)


def translate_to_latest(
    d: Mapping[str, Any], version: str, in_place: bool = False
) -> tuple[dict[str, Any], list[TranslationWarning]]:
    """Translate a schema-validated config of spec `version` to spec 3.6.0.

    Returns the new dict (the input is not modified, unless `in_place` says the caller owns it and
    is done with it: a deep copy of a 10,000-file config costs a tenth of a second) and one warning
    per file or directory whose mode lost special bits. Raises ValueError for a version outside
    3.0.0-3.6.0.
    """
    if version not in VERSIONS:
        raise ValueError(f"cannot translate config version {version!r}: not one of {VERSIONS}")
    out = d if in_place and isinstance(d, dict) else copy.deepcopy(dict(d))
    warnings: list[TranslationWarning] = []
    _drop_fields_newer_than(out, version)
    start = VERSIONS.index(version)
    for source, target in zip(VERSIONS[start:-1], VERSIONS[start + 1 :], strict=True):
        _STEPS[source](out, warnings, version)
        _set_version(out, target)
    return out, warnings


def _set_version(d: dict[str, Any], version: str) -> None:
    ign = d.get("ignition")
    if not isinstance(ign, dict):
        ign = d["ignition"] = {}
    ign["version"] = version


def _drop_fields_newer_than(d: dict[str, Any], version: str) -> None:
    have = VERSIONS.index(version)
    for since, path in _ADDED_FIELDS:
        if VERSIONS.index(since) > have:
            for parent, key in _parents(d, path):
                parent.pop(key, None)


def _parents(node: Any, path: tuple[str, ...]) -> Iterator[tuple[dict[str, Any], str]]:
    """Yield (containing object, key) for every place `path` names in `node`."""
    head, *rest = path
    if head == "*":
        if isinstance(node, list):
            for item in node:
                yield from _parents(item, tuple(rest))
    elif isinstance(node, dict):
        if not rest:
            yield node, head
        elif head in node:
            yield from _parents(node[head], tuple(rest))


# Each step rewrites the config in place; the caller sets the new version afterwards.
# The third argument is the version the user wrote, for messages.
_Step = Callable[[dict[str, Any], list[TranslationWarning], str], None]


def _v3_0_to_v3_1(d: dict[str, Any], _w: list[TranslationWarning], _v: str) -> None:
    # 3.0's ConfigReference (merge, replace), CaReference (CAs) and FileContents (contents,
    # append) became 3.1's single Resource type. Resource kept their JSON names and only added
    # fields, so each entry is carried over field by field.
    cfg = _dict_at(d, "ignition", "config")
    if cfg is not None:
        _map_list(cfg, "merge", _reference_to_resource)
        _map_one(cfg, "replace", _reference_to_resource)
    tls = _dict_at(d, "ignition", "security", "tls")
    if tls is not None:
        _map_list(tls, "certificateAuthorities", _reference_to_resource)
    for _i, f in _entries(d, "files"):
        _map_one(f, "contents", _reference_to_resource)
        _map_list(f, "append", _reference_to_resource)


def _reference_to_resource(ref: dict[str, Any]) -> dict[str, Any]:
    """ConfigReference {source, verification}, CaReference {source, verification} and
    FileContents {compression, source, verification} map name for name onto Resource {source,
    compression, httpHeaders, verification}; keys 3.0 lacks were dropped before this step."""
    return dict(ref)


def _unchanged(d: dict[str, Any], _w: list[TranslationWarning], _v: str) -> None:
    # 3.1->3.2, 3.2->3.3, 3.3->3.4 and 3.4->3.5 only added fields (and, in Go, turned a few
    # required strings into pointers), so apart from the version the dict is already valid.
    pass


def _v3_5_to_v3_6(d: dict[str, Any], warnings: list[TranslationWarning], version: str) -> None:
    # Older Ignition never applied setuid/setgid/sticky; keeping them would change what an
    # existing config does, so they are dropped, loudly.
    for kind in ("files", "directories"):
        for i, node in _entries(d, kind):
            mode = node.get("mode")
            if isinstance(mode, int) and not isinstance(mode, bool) and mode & _SPECIAL_MODE_BITS:
                node["mode"] = mode & ~_SPECIAL_MODE_BITS
                warnings.append(
                    TranslationWarning(
                        f"$.storage.{kind}.{i}.mode",
                        f"mode 0o{mode:o} has special bits that spec {version} ignores; they are "
                        f"dropped (use spec {LATEST} to keep them)",
                    )
                )


_STEPS: dict[str, _Step] = {
    "3.0.0": _v3_0_to_v3_1,
    "3.1.0": _unchanged,
    "3.2.0": _unchanged,
    "3.3.0": _unchanged,
    "3.4.0": _unchanged,
    "3.5.0": _v3_5_to_v3_6,
}


def _dict_at(d: dict[str, Any], *keys: str) -> dict[str, Any] | None:
    node: Any = d
    for k in keys:
        node = node.get(k) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _entries(d: dict[str, Any], kind: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, entry) of each object in the list storage.<kind>, none when absent or null."""
    items = (_dict_at(d, "storage") or {}).get(kind)
    if isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, dict):
                yield i, item


def _map_one(
    obj: dict[str, Any], key: str, fn: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    if isinstance(obj.get(key), dict):
        obj[key] = fn(obj[key])


def _map_list(
    obj: dict[str, Any], key: str, fn: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    items = obj.get(key)
    if isinstance(items, list):
        obj[key] = [fn(x) if isinstance(x, dict) else x for x in items]
