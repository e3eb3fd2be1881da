"""`@record`: dataclasses that are cheap to define.

`@dataclass` writes and compiles up to six methods per class (init, repr,
eq, hash, setattr, delattr): about a quarter of a millisecond each on this
kind of machine, and every stage is a new interpreter that defines its
classes again (the config types are 34 classes; under QEMU's TCG that cost
~0.35 s per stage). A record is a real dataclass (dataclasses.fields,
replace, asdict and is_dataclass work, field metadata included) whose methods
are shared generic functions instead of generated ones.

`@record` behaves as `@dataclass(frozen=True, slots=True, kw_only=True)`, the
shape of the config types. `@record(kw_only=False, frozen=..., slots=False)`
behaves as `@dataclass(frozen=...)`: a positional-or-keyword __init__ in field
order. Either way: defaults and default factories, equality over the fields
with compare=True (only between instances of the same class), hashing over
them when frozen (a mutable record is unhashable, as a mutable dataclass
with eq is), a repr naming each field with repr=True, and
FrozenInstanceError on assignment or deletion when frozen.

A subclass of a record is a record too: `@dataclass(frozen=True)` refuses to
extend it, since to the dataclass machinery a record is not frozen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

_C = TypeVar("_C", bound=type)
_MISSING = dataclasses.MISSING
_setattr = object.__setattr__


def _value(cls: type, name: str, default: Any, factory: Any) -> Any:
    if factory is not None:
        return factory()
    if default is not _MISSING:
        return default
    raise TypeError(f"{cls.__name__}.__init__() missing required argument: {name!r}")


def _init_kw(self: Any, **kwargs: Any) -> None:
    cls = type(self)
    for name, default, factory in cls.__record_spec__:
        if name in kwargs:
            _setattr(self, name, kwargs.pop(name))
        elif factory is None and default is _MISSING:
            raise TypeError(f"{cls.__name__}.__init__() missing required keyword argument: {name!r}")
        else:
            _setattr(self, name, _value(cls, name, default, factory))
    if kwargs:
        raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")


def _init_positional(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    spec = cls.__record_spec__
    if len(args) > len(spec):
        raise TypeError(f"{cls.__name__}.__init__() takes {len(spec) + 1} positional arguments "
                        f"but {len(args) + 1} were given")
    for i, (name, default, factory) in enumerate(spec):
        if i < len(args):
            if name in kwargs:
                raise TypeError(f"{cls.__name__}.__init__() got multiple values for argument {name!r}")
            _setattr(self, name, args[i])
        elif name in kwargs:
            _setattr(self, name, kwargs.pop(name))
        else:
            _setattr(self, name, _value(cls, name, default, factory))
    if kwargs:
        raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in type(self).__record_compare__)


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        result: bool = NotImplemented  # the other operand decides, as for dataclasses
        return result
    return self is other or _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in type(self).__record_repr__)
    return f"{type(self).__qualname__}({inner})"


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _make(cls: type, kw_only: bool, frozen: bool, slots: bool) -> Any:
    # The dataclass machinery only collects the fields (and makes the slots);
    # it generates no method. A class without a docstring would get one made
    # from inspect.signature(), which costs more than the rest (and would load
    # inspect, which start-up defers: ignition/startup.py).
    if cls.__doc__ is None:
        cls.__doc__ = f"{cls.__name__} (a record)"
    out: Any = dataclasses.dataclass(init=False, repr=False, eq=False, slots=slots, kw_only=kw_only)(cls)
    fields = dataclasses.fields(out)
    if any(not f.init for f in fields):
        raise TypeError(f"{cls.__name__}: a record has no field(init=False)")
    out.__record_spec__ = tuple(
        (f.name, f.default, None if f.default_factory is _MISSING else f.default_factory)
        for f in fields
    )
    out.__record_compare__ = tuple(f.name for f in fields if f.compare)
    out.__record_repr__ = tuple(f.name for f in fields if f.repr)
    out.__init__ = _init_kw if kw_only else _init_positional
    out.__repr__ = _repr
    out.__eq__ = _eq
    if frozen:
        out.__hash__ = _hash
        out.__setattr__ = _frozen_setattr
        out.__delattr__ = _frozen_delattr
    else:
        out.__hash__ = None
    return out


@overload
def record(cls: _C, /) -> _C: ...


@overload
def record(*, kw_only: bool = True, frozen: bool = True, slots: bool = True) -> Callable[[_C], _C]: ...


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(dataclasses.field,))
def record(cls: Any = None, /, *, kw_only: bool = True, frozen: bool = True, slots: bool = True) -> Any:
    if cls is not None:
        return _make(cls, kw_only, frozen, slots)
    return lambda c: _make(c, kw_only, frozen, slots)
