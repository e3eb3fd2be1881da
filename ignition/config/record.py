"""`@record`: frozen, keyword-only dataclasses that are cheap to define.

`@dataclass(frozen=True)` writes and compiles six methods per class (init,
repr, eq, hash, setattr, delattr). The config types are 34 classes, and every
stage is a new interpreter that defines them all again: under QEMU's TCG that
cost ~0.35 s per stage. A record is a real dataclass (dataclasses.fields,
replace and is_dataclass work, field metadata included) whose methods are
shared generic functions instead of generated ones; the behaviour is that of
`@dataclass(frozen=True, slots=True, kw_only=True)`: keyword-only __init__
with defaults and default factories, equality and hashing over the fields
(only between instances of the same class), a repr naming each field, and
FrozenInstanceError on assignment or deletion.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar, dataclass_transform

_C = TypeVar("_C", bound=type)
_MISSING = dataclasses.MISSING
_setattr = object.__setattr__


def _init(self: Any, **kwargs: Any) -> None:
    for name, default, factory in type(self).__record_spec__:
        if name in kwargs:
            value = kwargs.pop(name)
        elif factory is not None:
            value = factory()
        elif default is not _MISSING:
            value = default
        else:
            raise TypeError(f"{type(self).__name__}.__init__() missing required keyword argument: {name!r}")
        _setattr(self, name, value)
    if kwargs:
        raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name, _, _ in type(self).__record_spec__)


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        result: bool = NotImplemented  # the other operand decides, as for dataclasses
        return result
    return self is other or _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    inner = ", ".join(f"{name}={getattr(self, name)!r}" for name, _, _ in type(self).__record_spec__)
    return f"{type(self).__qualname__}({inner})"


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(dataclasses.field,))
def record(cls: _C) -> _C:
    # The dataclass machinery only collects the fields (and makes the slots);
    # it generates no method. A class without a docstring would get one made
    # from inspect.signature(), which costs more than the rest.
    if cls.__doc__ is None:
        cls.__doc__ = f"{cls.__name__} (a config record)"
    out: Any = dataclasses.dataclass(init=False, repr=False, eq=False, slots=True, kw_only=True)(cls)
    out.__record_spec__ = tuple(
        (f.name, f.default, None if f.default_factory is _MISSING else f.default_factory)
        for f in dataclasses.fields(out)
    )
    out.__init__ = _init
    out.__repr__ = _repr
    out.__eq__ = _eq
    out.__hash__ = _hash
    out.__setattr__ = _frozen_setattr
    out.__delattr__ = _frozen_delattr
    return out  # type: ignore[no-any-return]
