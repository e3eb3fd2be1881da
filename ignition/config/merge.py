"""Merging a child config onto its parent, exactly as Ignition's `config/merge/merge.go` does.

Used when rendering `ignition.config.merge` and when layering base configs under the user's.
Both inputs are valid configs; the result may not be (the caller re-validates it).

The rules, applied recursively over the frozen dataclasses of types.py:
- a scalar: the child's value when it set one (not None), else the parent's. Ignition's pointer
  fields behave so; its few plain (non-pointer) scalars are `ignition.version`, which every config
  sets, and list keys, which are equal whenever two entries are merged;
- a nested object: merged field by field;
- a list in `_APPENDED`: the parent's entries, then the child's, no matching at all;
- any other list: entries are matched by key (`_KEYS`; strings by value). The parent's entries
  keep their order, each merged with the child's entry of the same key; then the child's entries
  with a key the parent's list lacks are appended in their order;
- lists in one key space (`_SHARED`): a child entry whose key the parent has in a *sibling* list
  drops the parent's entry; the child's entry lands in its own list (a child file at the path of a
  parent link: the link is gone, the file is in `files`);
- an HTTP header in the child with a name and no value drops the parent's header of that name.

Nothing is ever removed otherwise: a child cannot delete a parent's list entry (Ignition #1130).
"""

from collections.abc import Callable, Hashable
from dataclasses import fields, is_dataclass
from operator import attrgetter
from typing import Any, TypeVar

from ignition.config.types import (
    Config,
    Directory,
    Disk,
    Dropin,
    File,
    Filesystem,
    HTTPHeader,
    KernelArguments,
    Link,
    Luks,
    Partition,
    PasswdGroup,
    PasswdUser,
    Raid,
    Resource,
    Storage,
    Tang,
    Unit,
)

T = TypeVar("T")


def _partition_key(p: Partition) -> Hashable:
    # Ignition: "number:<n>" when the number is non-zero, else "label:<l>", else "" (no label)
    if p.number:
        return ("number", p.number)
    if p.label is not None:
        return ("label", p.label)
    return ()


def _path(node: File | Directory | Link) -> Hashable:
    # a plain string, so that files, directories and links can meet in their shared key space
    return node.path


# Key of each list entry type (Ignition's Key() methods). A list whose entry type is missing here
# and which is not in _APPENDED makes merge() raise, so a new spec list cannot be merged silently.
_KEYS: dict[type, Callable[[Any], Hashable]] = {
    str: lambda s: s,
    Disk: attrgetter("device"),
    Partition: _partition_key,
    Raid: attrgetter("name"),
    Filesystem: attrgetter("device"),
    File: _path,
    Directory: _path,
    Link: _path,
    Luks: attrgetter("name"),
    Tang: lambda t: t.url or "",
    Unit: attrgetter("name"),
    Dropin: attrgetter("name"),
    PasswdUser: attrgetter("name"),
    PasswdGroup: attrgetter("name"),
    Resource: lambda r: r.source or "",
    HTTPHeader: attrgetter("name"),
}

# Lists that are concatenated, never matched (Ignition's IgnoreDuplicates()): appending the same
# fragment twice, or passing an mkfs/mdadm/cryptsetup argument twice, is meaningful. Ignition
# lists luks `options` here but not `openOptions`, which are therefore matched by value.
_APPENDED: frozenset[tuple[type, str]] = frozenset(
    {
        (File, "append"),
        (Filesystem, "options"),
        (Filesystem, "mount_options"),
        (Luks, "options"),
        (Raid, "options"),
    }
)

# Lists of one struct that share a key space (Ignition's MergedKeys()), by the name of the space.
_SHARED: dict[tuple[type, str], str] = {
    (Storage, "files"): "node",
    (Storage, "directories"): "node",
    (Storage, "links"): "node",
    (KernelArguments, "should_exist"): "karg",
    (KernelArguments, "should_not_exist"): "karg",
}


def merge(parent: Config, child: Config) -> Config:
    """`child` layered onto `parent` with Ignition's merge semantics (see the module docstring).

    The result's `ignition.version` is the child's. `ignition.config.merge` and `.replace` are
    merged like any other field, not cleared: Ignition's Merge() is purely structural, and its
    rendered config (what it caches in /run/ignition.json) still lists the references it
    followed. Rendering never re-reads them from a merge result: it renders each fetched child
    first and then merges it, and the stages after fetch read the cache without rendering.
    """
    result: Config = _merge_struct(parent, child)
    return result


def _key(entry: Any) -> Hashable:
    try:
        key_of = _KEYS[type(entry)]
    except KeyError:
        raise TypeError(f"no merge key for list entries of type {type(entry).__name__}") from None
    return key_of(entry)


def _handle(cls: type, name: str) -> str:
    return _SHARED.get((cls, name), name)


def _merge_struct(parent: Any, child: Any) -> Any:
    cls = type(parent)
    index = _index_child(cls, child)
    values: dict[str, Any] = {}
    for f in fields(cls):
        p, c = getattr(parent, f.name), getattr(child, f.name)
        if isinstance(p, tuple):
            values[f.name] = _merge_list(cls, f.name, p, c, index)
        elif is_dataclass(p):
            values[f.name] = _merge_struct(p, c)
        else:
            values[f.name] = p if c is None else c
    return cls(**values)


def _index_child(cls: type, child: Any) -> dict[tuple[str, Hashable], tuple[str, Any]]:
    """(key space, key) -> (list field, entry) over the child's keyed lists. Like Ignition, the
    last entry wins when a (valid configs never do) list repeats a key."""
    index: dict[tuple[str, Hashable], tuple[str, Any]] = {}
    for f in fields(cls):
        entries = getattr(child, f.name)
        if not isinstance(entries, tuple) or (cls, f.name) in _APPENDED:
            continue
        handle = _handle(cls, f.name)
        for entry in entries:
            index[handle, _key(entry)] = (f.name, entry)
    return index


def _merge_list(
    cls: type,
    name: str,
    parents: tuple[Any, ...],
    children: tuple[Any, ...],
    index: dict[tuple[str, Hashable], tuple[str, Any]],
) -> tuple[Any, ...]:
    if (cls, name) in _APPENDED:
        return parents + children
    handle = _handle(cls, name)
    out: list[Any] = []
    parent_keys: set[Hashable] = set()
    for p in parents:
        key = _key(p)
        parent_keys.add(key)
        hit = index.get((handle, key))
        if hit is None:
            out.append(p)
            continue
        where, c = hit
        if where != name:
            continue  # the child's entry in the sibling list replaces this one
        if isinstance(c, HTTPHeader) and c.value is None:
            continue  # a header without value in the child removes the parent's
        out.append(_merge_struct(p, c) if is_dataclass(c) else c)
    # only this list's keys count: a key found in a sibling list was dropped above, and the
    # child's entry belongs here
    out.extend(c for c in children if _key(c) not in parent_keys)
    return tuple(out)
