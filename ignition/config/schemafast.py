"""A fast path for the schema step of the parser, for configs that need none
of its slow parts.

The parser's schema step is three walks: `schemawalk.fold_keys` (Go's
case-insensitive keys), jsonschema's `iter_errors` and
`schemawalk.unknown_keys`. On a 10,000-file config jsonschema's descent alone
takes most of the validator's time. Our schemas use only `type`,
`properties`, `items`, `required` and local `$ref`s (plus annotations), so
this module compiles a schema into a tree of checks for exactly those
keywords and walks a config once.

It only ever vouches for the plain case: every key spelled as the schema
spells it and every value of an allowed JSON type (a check that is stricter,
never looser, than jsonschema's with our integer rule). Then jsonschema would
report nothing and fold_keys would change nothing, so the config itself is
the folded config and the only report entries are the unknown-key warnings,
which are collected here in unknown_keys' order with its paths and message.
For anything else (a schema keyword it does not know, a key that only
matches case-insensitively, a value of the wrong type, a missing required
key, a Python type JSON cannot produce) `check` returns None and the parser
runs the three walks as before: jsonschema stays the authority on every
config that has a problem. tests/unit/test_validator_fastpath.py compares both on
generated configs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ignition.config.report import PathElem

Path = tuple[PathElem, ...]

# Python types json.loads produces for each JSON Schema type. Exact types:
# a subclass (an IntEnum, a str subclass) is left to jsonschema.
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "boolean": (bool,), "null": (type(None),), "object": (dict,),
    "array": (list,), "number": (int, float), "integer": (int,),
}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# Keywords that never make an instance invalid.
_ANNOTATIONS = frozenset({"description", "title", "$schema", "$id", "$defs", "$comment"})
_KNOWN = _ANNOTATIONS | {"type", "properties", "items", "required", "$ref"}


class _Unsupported(Exception):
    """The schema uses something this module does not compile."""


class _Slow(Exception):
    """This instance needs the full walks (a problem, a folded key, an odd type)."""


class _Node:
    """The compiled checks of one schema object."""

    __slots__ = ("int_range", "items", "leaf", "lower", "props", "required", "types")

    def __init__(self) -> None:
        self.types: frozenset[type] | None = None  # None: any type
        self.int_range = False  # an int is allowed only as a JSON Schema "integer" (int64)
        self.props: dict[str, _Node] | None = None
        self.lower: frozenset[str] = frozenset()  # lower-cased property names
        self.items: _Node | None = None
        self.required: tuple[str, ...] = ()
        self.leaf = True  # nothing to descend into: only the type is checked


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.defs: dict[str, _Node] = {}

    def node(self, schema: Any) -> _Node:
        if not isinstance(schema, Mapping) or not set(schema) <= _KNOWN:
            raise _Unsupported
        ref = schema.get("$ref")
        if ref is not None:
            # The walks follow a $ref and ignore its siblings; our schemas give it only a
            # description, and anything more is left to the slow path.
            if set(schema) - {"$ref"} - _ANNOTATIONS or not isinstance(ref, str):
                raise _Unsupported
            return self._ref(ref)
        out = _Node()
        t = schema.get("type")
        if t is not None:
            names = [t] if isinstance(t, str) else t
            if not isinstance(names, list) or not all(isinstance(n, str) and n in _PY_TYPES for n in names):
                raise _Unsupported
            out.types = frozenset(pt for n in names for pt in _PY_TYPES[n])
            out.int_range = "integer" in names and "number" not in names
        props = schema.get("properties")
        if props is not None:
            if not isinstance(props, Mapping):
                raise _Unsupported
            out.props = {str(k): self.node(v) for k, v in props.items()}
            out.lower = frozenset(k.lower() for k in out.props)
        items = schema.get("items")
        if items is not None:
            out.items = self.node(items)
        req = schema.get("required")
        if req is not None:
            if not isinstance(req, list) or not all(isinstance(r, str) for r in req):
                raise _Unsupported
            out.required = tuple(req)
        out.leaf = out.props is None and out.items is None and not out.required
        return out

    def _ref(self, ref: str) -> _Node:
        if not ref.startswith("#/$defs/"):
            raise _Unsupported
        name = ref.removeprefix("#/$defs/")
        node = self.defs.get(name)
        if node is None:
            defs = self.root.get("$defs")
            if not isinstance(defs, Mapping) or name not in defs:
                raise _Unsupported
            # Registered before compiling so a recursive definition refers to itself.
            node = self.defs[name] = _Node()
            compiled = self.node(defs[name])
            for attr in _Node.__slots__:
                setattr(node, attr, getattr(compiled, attr))
        return node


def compile_schema(root: Mapping[str, Any]) -> _Node | None:
    """The compiled schema, or None when it uses anything beyond the
    keywords this module knows."""
    try:
        return _Compiler(root).node(root)
    except (_Unsupported, RecursionError):
        return None


def check(node: _Node, inst: Any) -> list[Path] | None:
    """The paths of unknown keys (in unknown_keys' order) when `inst` is plain
    and valid under `node`; None when the full walks must decide."""
    unknown: list[Path] = []
    try:
        _walk(node, inst, (), unknown)
    except (_Slow, RecursionError):
        return None
    return unknown


def _type_ok(node: _Node, v: Any) -> bool:
    t = type(v)
    types = node.types
    if types is not None and t not in types:
        return False
    return not (t is int and node.int_range and not _INT64_MIN <= v <= _INT64_MAX)


def _walk(node: _Node, inst: Any, path: Path, unknown: list[Path]) -> None:
    if not _type_ok(node, inst):
        raise _Slow
    t = type(inst)
    if t is dict:
        for r in node.required:
            if r not in inst:
                raise _Slow
        props = node.props
        if props is None:
            return
        for k, v in inst.items():
            sub = props.get(k)
            if sub is None:
                if k.lower() in node.lower:
                    raise _Slow  # fold_keys renames it, with a warning
                unknown.append(path + (k,))
            elif sub.leaf:
                if not _type_ok(sub, v):
                    raise _Slow
            else:
                _walk(sub, v, path + (k,), unknown)
    elif t is list:
        items = node.items
        if items is None:
            return
        if items.leaf:
            for v in inst:
                if not _type_ok(items, v):
                    raise _Slow
        else:
            for i, v in enumerate(inst):
                _walk(items, v, path + (i,), unknown)
