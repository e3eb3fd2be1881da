"""Records behave as @dataclass(frozen=True, slots=True, kw_only=True) would."""

from __future__ import annotations

import dataclasses

import pytest

from ignition.config.record import record
from ignition.config.types import Config, File, Ignition, Node, Resource


@record
class Base:
    name: str
    tags: tuple[str, ...] = ()
    extra: list[int] = dataclasses.field(default_factory=list, metadata={"json": "x"})


@record
class Child(Base):
    size: int | None = None


def test_init_takes_keywords_defaults_and_factories() -> None:
    a = Child(name="a")
    assert (a.name, a.tags, a.extra, a.size) == ("a", (), [], None)
    assert Child(name="b").extra is not a.extra  # a new list each time
    with pytest.raises(TypeError, match="missing required keyword argument: 'name'"):
        Child()
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        Child(name="a", bogus=1)
    with pytest.raises(TypeError):
        Child("a")  # type: ignore[misc]


def test_equality_and_hash_follow_the_fields_and_the_class() -> None:
    assert Base(name="a", tags=("t",)) == Base(name="a", tags=("t",))
    assert Base(name="a") != Base(name="b")
    assert Base(name="a") != Child(name="a")  # other classes never compare equal
    assert hash(Resource(source="data:,x")) == hash(Resource(source="data:,x"))
    assert len({Resource(source="data:,x"), Resource(source="data:,x"), Resource()}) == 2


def test_frozen_and_slotted() -> None:
    r = Resource(source="data:,x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.source = "y"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del r.source  # type: ignore[misc]
    assert not hasattr(r, "__dict__")


def test_dataclass_tools_work() -> None:
    assert dataclasses.is_dataclass(File)
    assert [f.name for f in dataclasses.fields(Child)] == ["name", "tags", "extra", "size"]
    assert dataclasses.fields(Base)[2].metadata["json"] == "x"
    f = File(path="/a", overwrite=True)
    g = dataclasses.replace(f, path="/b")
    assert (g.path, g.overwrite, type(g)) == ("/b", True, File)
    assert issubclass(File, Node)


def test_repr_names_every_field() -> None:
    assert repr(Base(name="a")) == "Base(name='a', tags=(), extra=[])"
    assert repr(Config(ignition=Ignition(version="3.6.0"))).startswith("Config(ignition=Ignition(version='3.6.0'")
