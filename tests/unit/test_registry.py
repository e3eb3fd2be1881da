"""Stages and platforms come from entry points; a broken install says how to fix it."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from ignition import entrypoints, registry
from ignition.entrypoints import EntryPoint
from ignition.errors import SetupError, UsageError
from ignition.stages.base import PendingStage


def test_all_seven_ignition_stages_are_registered() -> None:
    assert set(registry.CORE_STAGES) <= set(registry.stages().names())


def test_stage_plugins_load_lazily_and_have_the_contract() -> None:
    reg = registry.stages()
    for name in registry.CORE_STAGES:
        cls = reg.get(name)
        assert cls.name == name
        assert cls.config_source in ("fetch", "cache")
        stage = cls()
        assert callable(stage.run) and callable(stage.applies)


def test_fetch_stages_acquire_and_the_rest_read_the_cache() -> None:
    reg = registry.stages()
    assert reg.get("fetch-offline").config_source == "fetch" and reg.get("fetch-offline").offline
    assert reg.get("fetch").config_source == "fetch" and not reg.get("fetch").offline
    for name in ("kargs", "disks", "mount", "files", "umount"):
        assert reg.get(name).config_source == "cache"


@pytest.mark.parametrize("kind", ["stage", "platform"])
def test_unknown_name_lists_the_valid_ones(kind: str) -> None:
    reg = registry.stages() if kind == "stage" else registry.providers()
    with pytest.raises(UsageError) as e:
        reg.get("bogus")
    msg = str(e.value)
    assert f"unknown {kind} 'bogus'" in msg
    for name in reg.names():
        assert name in msg


def test_missing_metadata_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entrypoints, "entry_points", lambda group: [])
    monkeypatch.setattr(metadata, "entry_points", lambda group: [])
    with pytest.raises(SetupError) as e:
        registry.stages()
    assert "fetch-offline" in str(e.value) and "dist-info" in str(e.value)
    with pytest.raises(SetupError, match="dist-info"):
        registry.providers()


def test_two_plugins_with_one_name_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [EntryPoint("file", "a.b:C", registry.PROVIDER_GROUP),
           EntryPoint("file", "x.y:Z", registry.PROVIDER_GROUP)]
    monkeypatch.setattr(entrypoints, "entry_points", lambda group: eps)
    with pytest.raises(SetupError, match="two platforms are registered as 'file'"):
        registry.providers()


def test_unloadable_plugin_is_a_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [EntryPoint("ghost", "ignition.no_such_module:Ghost", registry.PROVIDER_GROUP)]
    monkeypatch.setattr(entrypoints, "entry_points", lambda group: eps)
    with pytest.raises(SetupError, match="cannot be loaded"):
        registry.providers().get("ghost")


def test_every_stage_is_implemented() -> None:
    reg = registry.stages()
    for name in registry.CORE_STAGES:
        assert not issubclass(reg.get(name), PendingStage)


@pytest.mark.parametrize("group", [registry.STAGE_GROUP, registry.PROVIDER_GROUP])
def test_the_fast_scan_finds_what_importlib_metadata_finds(group: str) -> None:
    fast = {(ep.name, ep.value) for ep in entrypoints.entry_points(group)}
    slow = {(ep.name, ep.value) for ep in metadata.entry_points(group=group)}
    assert fast == slow and len(fast) >= 7


def test_the_registry_falls_back_to_importlib_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entrypoints, "entry_points", lambda group: [])
    assert set(registry.CORE_STAGES) <= set(registry.stages().names())


def _dist(site: Path, dirname: str, text: str | None) -> None:
    d = site / dirname
    d.mkdir(parents=True)
    if text is not None:
        (d / "entry_points.txt").write_text(text)


def test_first_distribution_of_a_name_on_the_path_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _dist(first, "My_Plugin-2.0.dist-info", "[ignition.providers]\nnew = plug.new:P\n")
    _dist(second, "my.plugin-1.0.dist-info", "[ignition.providers]\nold = plug.old:P\n")
    _dist(second, "other-0.1.egg-info", "# comment\n[console_scripts]\nx = y:z\n\n[ignition.providers]\n"
                                       "  spaced   =   other.mod:Cls.Inner [extra]\n")
    _dist(second, "silent-1.0.dist-info", None)
    eps = entrypoints.entry_points(registry.PROVIDER_GROUP, [str(first), str(second), str(tmp_path / "none")])
    assert [(e.name, e.value) for e in eps] == [("new", "plug.new:P"), ("spaced", "other.mod:Cls.Inner [extra]")]


def test_a_distribution_without_entry_points_shadows_later_copies(tmp_path: Path) -> None:
    _dist(tmp_path / "a", "plug-2.0.dist-info", None)
    _dist(tmp_path / "b", "plug-1.0.dist-info", "[ignition.providers]\nold = plug.old:P\n")
    assert entrypoints.entry_points(registry.PROVIDER_GROUP, [str(tmp_path / "a"), str(tmp_path / "b")]) == []


def test_an_entry_point_loads_nested_attributes_and_ignores_extras() -> None:
    ep = EntryPoint("x", "ignition.registry:Registry.load [extra]", registry.STAGE_GROUP)
    assert ep.load() == registry.Registry.load
