"""systemd units, dropins, masks and presets written by the files stage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ignition.stages.files.units import PRESET_PATH, apply_units
from tests.unit.test_files_support import Env, config, make_env, mode, snapshot

UNIT = "[Unit]\nDescription=test\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"


def units(tmp_path: Path, *unit_list: dict[str, Any], enabled: tuple[str, ...] = ()) -> Env:
    return make_env(tmp_path, config(systemd={"units": list(unit_list)}), enabled=enabled)


def preset(e: Env) -> str:
    return e.p(PRESET_PATH).read_text()


def systemctl_calls(e: Env) -> list[tuple[str, ...]]:
    return [a for a in e.fake.argvs if os.path.basename(a[0]) == "systemctl"]


def test_unit_with_contents_is_written_0644(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "hello.service", "contents": UNIT})
    apply_units(e.ctx)
    path = e.p("/etc/systemd/system/hello.service")
    assert path.read_text() == UNIT
    assert mode(path) == 0o644
    assert mode(e.p("/etc/systemd/system")) == 0o755
    assert not e.p(PRESET_PATH).exists()


def test_unit_contents_replace_an_existing_unit(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "hello.service", "contents": UNIT})
    e.p("/etc/systemd/system").mkdir(parents=True)
    e.p("/etc/systemd/system/hello.service").write_text("[Unit]\nDescription=old\n")
    apply_units(e.ctx)
    assert e.p("/etc/systemd/system/hello.service").read_text() == UNIT


def test_unit_without_contents_is_not_written(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "shipped.service"})
    before = snapshot(e.root)
    apply_units(e.ctx)
    assert snapshot(e.root) == before


def test_dropin_with_empty_contents_is_an_empty_file(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "sshd.service", "dropins": [{"name": "10-empty.conf", "contents": ""}]})
    apply_units(e.ctx)
    path = e.p("/etc/systemd/system/sshd.service.d/10-empty.conf")
    assert path.read_bytes() == b""
    assert mode(path) == 0o644
    assert not e.p("/etc/systemd/system/sshd.service").exists()


def test_dropin_with_contents(tmp_path: Path) -> None:
    body = "[Service]\nEnvironment=A=1\n"
    e = units(tmp_path, {"name": "sshd.service", "dropins": [{"name": "10-env.conf", "contents": body}]})
    apply_units(e.ctx)
    assert e.p("/etc/systemd/system/sshd.service.d/10-env.conf").read_text() == body


def test_dropin_without_contents_is_skipped(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "sshd.service", "dropins": [{"name": "10-none.conf"}]})
    before = snapshot(e.root)
    apply_units(e.ctx)
    assert snapshot(e.root) == before


def test_enabled_true_writes_preset_line(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "hello.service", "enabled": True, "contents": UNIT})
    apply_units(e.ctx)
    assert preset(e) == "enable hello.service\n"
    assert mode(e.p(PRESET_PATH)) == 0o644
    # Enabling goes through the preset only: nothing runs.
    assert systemctl_calls(e) == []


def test_enabled_without_contents_still_gets_a_preset(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "shipped.service", "enabled": True})
    apply_units(e.ctx)
    assert preset(e) == "enable shipped.service\n"
    assert not e.p("/etc/systemd/system/shipped.service").exists()


def test_instances_are_grouped_on_one_line(tmp_path: Path) -> None:
    e = units(tmp_path,
              {"name": "getty@tty1.service", "enabled": True},
              {"name": "other.service", "enabled": True},
              {"name": "getty@ttyS0.service", "enabled": True})
    apply_units(e.ctx)
    assert preset(e) == "enable getty@.service tty1 ttyS0\nenable other.service\n"


def test_preset_lines_are_sorted(tmp_path: Path) -> None:
    e = units(tmp_path,
              {"name": "zebra.service", "enabled": True},
              {"name": "alpha.socket", "enabled": True},
              {"name": "mid@x.timer", "enabled": True},
              {"name": "beta.service", "enabled": True})
    apply_units(e.ctx)
    lines = preset(e).splitlines()
    assert lines == sorted(lines)
    assert lines == ["enable alpha.socket", "enable beta.service", "enable mid@.timer x",
                     "enable zebra.service"]


def test_existing_preset_content_is_kept(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "hello.service", "enabled": True})
    e.p(PRESET_PATH).parent.mkdir(parents=True)
    e.p(PRESET_PATH).write_text("enable earlier.service")  # no final newline
    apply_units(e.ctx)
    assert preset(e) == "enable earlier.service\nenable hello.service\n"


def test_mask_links_to_dev_null_replacing_a_unit_file(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "bad.service", "mask": True})
    e.p("/etc/systemd/system").mkdir(parents=True)
    e.p("/etc/systemd/system/bad.service").write_text(UNIT)
    apply_units(e.ctx)
    path = e.p("/etc/systemd/system/bad.service")
    assert path.is_symlink()
    assert os.readlink(path) == "/dev/null"


def test_mask_on_absent_unit(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "bad.service", "mask": True})
    apply_units(e.ctx)
    assert os.readlink(e.p("/etc/systemd/system/bad.service")) == "/dev/null"


def test_mask_never_writes_to_host_dev_null(tmp_path: Path) -> None:
    # The target's /dev/null is a regular file here; masking must not touch it.
    e = units(tmp_path, {"name": "bad.service", "mask": True})
    e.p("/dev").mkdir()
    e.p("/dev/null").write_bytes(b"target file")
    apply_units(e.ctx)
    assert e.p("/dev/null").read_bytes() == b"target file"
    assert os.readlink(e.p("/etc/systemd/system/bad.service")) == "/dev/null"


def test_mask_false_removes_dev_null_link(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "bad.service", "mask": False})
    e.p("/etc/systemd/system").mkdir(parents=True)
    os.symlink("/dev/null", e.p("/etc/systemd/system/bad.service"))
    apply_units(e.ctx)
    assert not os.path.lexists(e.p("/etc/systemd/system/bad.service"))


def test_mask_false_keeps_a_unit_file(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "good.service", "mask": False})
    e.p("/etc/systemd/system").mkdir(parents=True)
    e.p("/etc/systemd/system/good.service").write_text(UNIT)
    apply_units(e.ctx)
    assert e.p("/etc/systemd/system/good.service").read_text() == UNIT


def test_mask_false_keeps_a_link_elsewhere(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "alias.service", "mask": False})
    e.p("/etc/systemd/system").mkdir(parents=True)
    os.symlink("/usr/lib/systemd/system/real.service", e.p("/etc/systemd/system/alias.service"))
    apply_units(e.ctx)
    assert os.readlink(e.p("/etc/systemd/system/alias.service")) == "/usr/lib/systemd/system/real.service"


def test_enabled_false_on_a_disabled_unit_does_nothing(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "x.service", "enabled": False})
    before = snapshot(e.root)
    apply_units(e.ctx)
    assert snapshot(e.root) == before
    calls = systemctl_calls(e)
    assert [c[-2:] for c in calls] == [("is-enabled", "x.service")]
    assert not any("disable" in c for c in calls)


def test_enabled_false_on_an_enabled_unit_disables_it(tmp_path: Path) -> None:
    e = units(tmp_path, {"name": "x.service", "enabled": False}, enabled=("x.service",))
    apply_units(e.ctx)
    calls = systemctl_calls(e)
    assert calls[0][1:] == (f"--root={e.root}", "is-enabled", "x.service")
    assert ("systemctl", f"--root={e.root}", "disable", "x.service") in calls
    assert preset(e) == "disable x.service\n"


def test_enable_and_disable_lines_together_sorted(tmp_path: Path) -> None:
    e = units(tmp_path,
              {"name": "b.service", "enabled": False},
              {"name": "a.service", "enabled": True},
              {"name": "c@i.service", "enabled": False},
              enabled=("b.service", "c@i.service"))
    apply_units(e.ctx)
    assert preset(e).splitlines() == sorted(["disable b.service", "enable a.service", "disable c@.service i"])


def test_mask_and_enabled_does_both_as_ignition_does(tmp_path: Path) -> None:
    # Ignition does not refuse the combination: the mask wins at boot, the
    # preset line is written all the same.
    e = units(tmp_path, {"name": "both.service", "mask": True, "enabled": True, "contents": UNIT})
    apply_units(e.ctx)
    assert os.readlink(e.root / "etc/systemd/system/both.service") == "/dev/null"
    assert (e.root / "etc/systemd/system-preset/20-ignition.preset").read_text() == "enable both.service\n"
