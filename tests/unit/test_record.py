"""Records behave as @dataclass(frozen=True, slots=True, kw_only=True) would."""

from __future__ import annotations

import dataclasses

import pytest

from ignition.config.types import Config, File, Ignition, Node, Resource
from ignition.record import record


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


@record(kw_only=False, slots=False)
class Point:
    x: int
    y: int = 0
    lock: object = dataclasses.field(default_factory=object, repr=False, compare=False)


@record(kw_only=False, frozen=False, slots=False)
class Tally:
    name: str
    seen: list[str] = dataclasses.field(default_factory=list)


def test_positional_records_behave_as_a_frozen_dataclass() -> None:
    p = Point(1, 2)
    assert (p.x, p.y) == (1, 2) and Point(1) == Point(x=1, y=0)
    assert Point(1, 2) == Point(1, 2) and hash(Point(1, 2)) == hash(Point(1, 2))  # lock: compare=False
    assert repr(p) == "Point(x=1, y=2)"  # lock: repr=False
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(TypeError, match="takes 4 positional arguments but 5 were given"):
        Point(1, 2, object(), 4)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for argument 'x'"):
        Point(1, x=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing required argument: 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(1, z=2)  # type: ignore[call-arg]
    assert dataclasses.replace(p, y=5) == Point(1, 5)
    assert hasattr(p, "__dict__")  # slots=False: an instance as a plain dataclass makes


def test_mutable_records_are_assignable_and_unhashable() -> None:
    t = Tally("a")
    t.seen.append("x")
    t.name = "b"
    assert t == Tally("b", ["x"]) and Tally("a").seen is not Tally("a").seen
    with pytest.raises(TypeError, match="unhashable"):
        hash(t)
    assert dataclasses.asdict(t) == {"name": "b", "seen": ["x"]}


def test_a_field_that_is_not_in_init_is_refused() -> None:
    class Bad:
        """A field left out of __init__."""

        a: int = dataclasses.field(default=0, init=False)

    with pytest.raises(TypeError, match="no field\\(init=False\\)"):
        record(Bad)


def test_a_record_without_a_docstring_gets_one_without_inspect() -> None:
    class NoDoc:
        a: int

    assert record(NoDoc).__doc__ == "NoDoc (a record)"
