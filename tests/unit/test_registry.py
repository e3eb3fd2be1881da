"""Stages and platforms come from entry points; a broken install says how to fix it."""

from __future__ import annotations

from importlib import metadata

import pytest

from ignition import registry
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
    monkeypatch.setattr(metadata, "entry_points", lambda group: [])
    with pytest.raises(SetupError) as e:
        registry.stages()
    assert "fetch-offline" in str(e.value) and "dist-info" in str(e.value)
    with pytest.raises(SetupError, match="dist-info"):
        registry.providers()


def test_two_plugins_with_one_name_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [metadata.EntryPoint("file", "a.b:C", registry.PROVIDER_GROUP),
           metadata.EntryPoint("file", "x.y:Z", registry.PROVIDER_GROUP)]
    monkeypatch.setattr(metadata, "entry_points", lambda group: eps)
    with pytest.raises(SetupError, match="two platforms are registered as 'file'"):
        registry.providers()


def test_unloadable_plugin_is_a_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [metadata.EntryPoint("ghost", "ignition.no_such_module:Ghost", registry.PROVIDER_GROUP)]
    monkeypatch.setattr(metadata, "entry_points", lambda group: eps)
    with pytest.raises(SetupError, match="cannot be loaded"):
        registry.providers().get("ghost")


def test_every_stage_is_implemented() -> None:
    reg = registry.stages()
    for name in registry.CORE_STAGES:
        assert not issubclass(reg.get(name), PendingStage)
