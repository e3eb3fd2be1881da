"""Generic mapping between the config dataclasses and their JSON dicts.

Driven by dataclass fields and type hints so that adding a spec field is one line in types.py.
A field's JSON name is its attribute name in camelCase unless `metadata={"json": ...}` says
otherwise (only where the spec's spelling is not plain camelCase, e.g. `sizeMiB`).
"""

from collections.abc import Mapping
from dataclasses import MISSING, fields, is_dataclass
from types import NoneType, UnionType
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from ignition.record import record

T = TypeVar("T")

_SCALARS: tuple[type, ...] = (str, int, bool)


@record(kw_only=False)
class JsonField:
    """How one dataclass attribute maps to its JSON key and type."""

    attr: str
    json: str
    # str, int, bool or a dataclass; for lists, the element type
    type: type
    is_list: bool
    required: bool
    default: Any


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _resolve(owner: type, attr: str, hint: Any) -> tuple[type, bool]:
    """Reduce a field's hint to (element type, is_list)."""
    origin = get_origin(hint)
    if origin is UnionType:
        # only `X | None` is used: None stands for "not set in the config"
        (inner,) = (a for a in get_args(hint) if a is not NoneType)
        return _resolve(owner, attr, inner)
    if origin is tuple:
        elem, _ellipsis = get_args(hint)
        return _resolve(owner, attr, elem)[0], True
    if isinstance(hint, type) and (hint in _SCALARS or is_dataclass(hint)):
        return hint, False
    raise TypeError(f"{owner.__name__}.{attr}: unsupported field type {hint!r}")


_FIELDS: dict[type, tuple[JsonField, ...]] = {}


def json_fields(cls: type) -> tuple[JsonField, ...]:
    """The JSON view of a config dataclass, in declaration order."""
    # type introspection is slow next to a dict lookup and configs hold many small objects
    cached = _FIELDS.get(cls)
    if cached is None:
        cached = _FIELDS[cls] = _introspect(cls)
    return cached


def _introspect(cls: type) -> tuple[JsonField, ...]:
    hints = get_type_hints(cls)
    out = []
    for f in fields(cls):
        elem, is_list = _resolve(cls, f.name, hints[f.name])
        out.append(
            JsonField(
                attr=f.name,
                json=f.metadata.get("json", _camel(f.name)),
                type=elem,
                is_list=is_list,
                required=f.default is MISSING and f.default_factory is MISSING,
                default=None if f.default is MISSING else f.default,
            )
        )
    return tuple(out)


class _Unusual(Exception):
    """The fast builder leaves this value to the checked one."""


# cls -> (JSON name -> (attribute, element type, is_list, is a record), required JSON names)
_Plan = tuple[dict[str, tuple[str, type, bool, bool]], tuple[str, ...]]
_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        fs = json_fields(cls)
        plan = _PLANS[cls] = ({f.json: (f.attr, f.type, f.is_list, is_dataclass(f.type)) for f in fs},
                              tuple(f.json for f in fs if f.required))
    return plan


def _build(cls: type[T], data: Any) -> T:
    # Walks the keys the object has rather than every field (most are unset), and builds no
    # path strings; any value that is not exactly what the checked path would accept is
    # _Unusual, and from_json then runs the checked path for its result or its error.
    if type(data) is not dict:
        raise _Unusual
    by_json, required = _plan(cls)
    for name in required:
        if data.get(name) is None:
            raise _Unusual
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        f = by_json.get(key)
        if f is None or value is None:
            continue
        attr, tp, is_list, nested = f
        if is_list:
            if type(value) is not list:
                raise _Unusual
            if nested:
                kwargs[attr] = tuple([_build(tp, item) for item in value])
            else:
                for item in value:
                    if type(item) is not tp:
                        raise _Unusual
                kwargs[attr] = tuple(value)
        elif nested:
            kwargs[attr] = _build(tp, value)
        elif type(value) is tp:
            kwargs[attr] = value
        else:
            raise _Unusual
    return cls(**kwargs)


def from_json(cls: type[T], data: Any, path: str = "$") -> T:
    """Build `cls` from a schema-validated JSON object; null counts as absent, unknown keys are
    ignored (the parser already warned about them)."""
    try:
        return _build(cls, data)
    except _Unusual:
        return _from_json_checked(cls, data, path)


def _from_json_checked(cls: type[T], data: Any, path: str) -> T:
    if not isinstance(data, Mapping):
        raise TypeError(f"{path}: expected an object")
    kwargs: dict[str, Any] = {}
    for jf in json_fields(cls):
        value = data.get(jf.json)
        where = f"{path}.{jf.json}"
        if value is None:
            if jf.required:
                raise TypeError(f"{where}: required field is missing")
            continue
        if jf.is_list:
            if not isinstance(value, list | tuple):
                raise TypeError(f"{where}: expected a list")
            kwargs[jf.attr] = tuple(
                _one(jf.type, item, f"{where}.{i}") for i, item in enumerate(value)
            )
        else:
            kwargs[jf.attr] = _one(jf.type, value, where)
    return cls(**kwargs)


def _one(tp: type, value: Any, path: str) -> Any:
    if is_dataclass(tp):
        return _from_json_checked(tp, value, path)
    # bool is an int subclass in Python but never a JSON integer
    if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise TypeError(f"{path}: expected {tp.__name__}, got {type(value).__name__}")
    return value


def to_json(obj: Any) -> dict[str, Any]:
    """The JSON object of a config dataclass; fields left at their default (None, empty list,
    empty object) are omitted, so only what the config actually sets is written."""
    out: dict[str, Any] = {}
    for jf in json_fields(type(obj)):
        value = getattr(obj, jf.attr)
        if not jf.required and value == jf.default:
            continue
        out[jf.json] = _dump(value)
    return out


def _dump(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return to_json(value)
    return value
