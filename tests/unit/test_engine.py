"""The engine end to end, in process: flags -> plugins -> config -> stage ->
cache/state files and exit codes, with the log read back."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ignition import engine
from ignition.log import MSG_CONFIG_FETCHED
from ignition.stages.fetch_offline import FetchOfflineStage
from tests.unit.machinefixtures import Machine, new_machine


@pytest.fixture
def m(tmp_path: Path) -> Machine:
    return new_machine(tmp_path, "BOOT_IMAGE=/vmlinuz root=LABEL=root ignition.firstboot\n")


SIMPLE = {
    "ignition": {"version": "3.3.0"},
    "storage": {"files": [{"path": "/etc/hostname", "contents": {"source": "data:,node1"}, "mode": 420}]},
}


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_fetch_offline_writes_cache_and_state(m: Machine) -> None:
    m.config(SIMPLE)
    assert m.run("fetch-offline") == 0
    cache = json.loads(Path(m.paths.config_cache).read_text())
    assert cache["ignition"]["version"] == "3.6.0"
    assert cache["storage"]["files"] == SIMPLE["storage"]["files"]  # type: ignore[index]
    assert mode(m.paths.config_cache) == 0o640
    state = json.loads(Path(m.paths.state_file).read_text())
    assert state["fetchedConfigs"] == [{"kind": "user", "source": "file", "referenced": False}]
    assert mode(m.paths.state_file) == 0o600
    assert mode(os.path.dirname(m.paths.state_file)) == 0o700
    assert not os.path.exists(m.paths.neednet)
    assert not [f for f in os.listdir(os.path.dirname(m.paths.config_cache)) if f.startswith(".")]


def test_a_stage_that_changes_no_state_leaves_the_file_as_it_was(m: Machine) -> None:
    m.config(SIMPLE)
    assert m.run("fetch-offline") == 0
    before = os.stat(m.paths.state_file)
    assert m.run("kargs") == 0  # the same state: no temp file, fsync and rename
    after = os.stat(m.paths.state_file)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    os.chmod(m.paths.state_file, 0o644)  # the same bytes but not private: written again
    assert m.run("kargs") == 0
    assert os.stat(m.paths.state_file).st_ino != before.st_ino and mode(m.paths.state_file) == 0o600
    Path(m.paths.state_file).write_text('{"fetchedConfigs": []}\n')  # other bytes: written again
    assert m.run("kargs") == 0
    assert json.loads(Path(m.paths.state_file).read_text())["fetchedConfigs"] == []
    assert "luksPersistKeyFiles" in json.loads(Path(m.paths.state_file).read_text())


def test_stage_entries_carry_stage_platform_and_the_fetched_message_id(m: Machine) -> None:
    m.config(SIMPLE)
    assert m.run("fetch-offline") == 0
    for _, msg, fields in m.sink.entries:
        assert fields["SYSLOG_IDENTIFIER"] == "ignition"
        assert fields["IGNITION_STAGE"] == "fetch-offline"
        assert fields["IGNITION_PLATFORM"] == "file"
        assert msg.startswith("fetch-offline: ")
    fetched = [f for _, _, f in m.sink.entries if f.get("MESSAGE_ID") == MSG_CONFIG_FETCHED]
    assert len(fetched) == 1
    assert fetched[0]["IGNITION_CONFIG_TYPE"] == "user"
    assert fetched[0]["IGNITION_CONFIG_SRC"] == "file"
    assert "op(1): [started]  fetching config from platform file" in m.sink.text
    assert "op(1): [finished] fetching config from platform file" in m.sink.text


def test_work_the_disks_stage_cannot_do_fails_loudly_before_any_disk(m: Machine) -> None:
    m.config({"ignition": {"version": "3.5.0"},
              "storage": {"luks": [{"name": "c", "device": "/dev/vdb", "cex": {"enabled": True}}]}})
    assert m.run("fetch-offline") == 0
    assert m.run("disks") == engine.EXIT_FAILED
    (crit,) = m.sink.critical()
    assert "not available in this build" in crit and "cex" in crit


@pytest.mark.parametrize("stage", ["kargs", "disks", "mount", "umount"])
def test_stages_without_work_for_this_config_pass(m: Machine, stage: str) -> None:
    m.config(SIMPLE)
    assert m.run("fetch-offline") == 0
    assert m.run(stage) == 0
    assert f"nothing to do in the {stage} stage" in m.sink.text


def test_cache_stage_without_cache_fails_naming_the_fetch_stage(m: Machine) -> None:
    assert m.run("files") == engine.EXIT_FAILED
    (crit,) = m.sink.critical()
    assert m.paths.config_cache in crit and "fetch-offline" in crit


def test_no_config_at_all_provisions_an_empty_config(m: Machine) -> None:
    assert m.run("fetch-offline", platform="metal") == 0
    assert json.loads(Path(m.paths.config_cache).read_text()) == {"ignition": {"version": "3.6.0"}}
    assert json.loads(Path(m.paths.state_file).read_text())["fetchedConfigs"] == []


@pytest.mark.parametrize(("stage", "platform", "word"), [("bogus", "file", "stage"), ("files", "bogus", "platform")])
def test_unknown_names_are_usage_errors(m: Machine, capsys: pytest.CaptureFixture[str],
                                        stage: str, platform: str, word: str) -> None:
    assert m.run(stage, platform=platform) == engine.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"unknown {word} 'bogus'" in err
    assert ("fetch-offline" if word == "stage" else "qemu") in err


def test_corrupt_state_is_a_setup_error(m: Machine) -> None:
    os.makedirs(os.path.dirname(m.paths.state_file))
    Path(m.paths.state_file).write_text("{not json")
    m.config(SIMPLE)
    assert m.run("fetch-offline") == engine.EXIT_SETUP
    (crit,) = m.sink.critical()
    assert "state file" in crit and "corrupt" in crit


def test_config_url_needing_network_writes_neednet_and_no_cache(m: Machine) -> None:
    # An s3 URL a unit test can use without reaching any host: its bucket name is invalid.
    Path(m.env.cmdline_path).write_text("ignition.config.url=s3://user:pw@bucket/c.ign?sig=abc quiet\n")
    assert m.run("fetch-offline") == 0
    assert os.path.exists(m.paths.neednet)
    assert not os.path.exists(m.paths.config_cache)
    assert "pw" not in m.sink.text.replace("pw@", "") and "sig=abc" not in m.sink.text
    assert m.run("fetch") == engine.EXIT_FAILED
    (crit,) = m.sink.critical()
    assert "invalid S3 bucket name" in crit and "sig=abc" not in crit and ":pw@" not in crit


def test_remote_contents_in_an_offline_config_raise_neednet_too(m: Machine) -> None:
    cfg = {"ignition": {"version": "3.3.0"},
           "storage": {"files": [{"path": "/etc/x", "contents": {"source": "https://example.com/x"}}]}}
    m.config(cfg)
    assert m.run("fetch-offline") == 0
    assert os.path.exists(m.paths.config_cache)
    assert os.path.exists(m.paths.neednet)
    assert "storage.files.0 (/etc/x)" in m.sink.text


def test_invalid_config_fails_with_path_line_and_no_secrets(m: Machine) -> None:
    m.config('{\n  "ignition": {"version": "3.3.0"},\n  "storage": {"files": [\n'
             '    {"path": "/etc/secret", "contents": {"source": "data:,TOP-SECRET"}, "mode": "0644"}\n'
             "  ]}\n}\n")
    assert m.run("fetch-offline") == engine.EXIT_FAILED
    (crit,) = m.sink.critical()
    assert "$.storage.files.0.mode, line 4 col" in crit
    assert "must be an integer, not a string" in crit
    assert "TOP-SECRET" not in m.sink.text
    assert not os.path.exists(m.paths.config_cache)


@pytest.mark.parametrize("version", ["3.7.0", "2.4.0-experimental", "3.4.0-experimental", "1.0.0"])
def test_unsupported_versions_fail(m: Machine, version: str) -> None:
    m.config({"ignition": {"version": version}})
    assert m.run("fetch-offline") == engine.EXIT_FAILED
    (crit,) = m.sink.critical()
    assert f"unsupported config version {version}" in crit


def snapshot(top: Path) -> dict[str, tuple[int, bytes]]:
    out: dict[str, tuple[int, bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            body = Path(p).read_bytes() if stat.S_ISREG(st.st_mode) else b""
            out[os.path.relpath(p, top)] = (st.st_mode, body)
    return out


@pytest.mark.parametrize("as_json", [False, True])
def test_dry_run_writes_nothing_and_prints_the_plan(m: Machine, as_json: bool,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    cfg = {"ignition": {"version": "3.3.0"},
           "storage": {"files": [{"path": "/etc/x", "contents": {"source": "https://example.com/x"}}]}}
    m.config(cfg)
    before = snapshot(m.tmp)
    assert m.run("fetch-offline", dry_run=True, plan_json=as_json) == 0
    assert snapshot(m.tmp) == before
    out = capsys.readouterr().out.splitlines()
    if as_json:
        plan = [json.loads(line) for line in out]
        targets = {(p["action"], p["target"]) for p in plan}
    else:
        targets = {(line.split()[1], line.split()[2]) for line in out}
    assert ("write", m.paths.config_cache) in targets
    assert ("write", m.paths.neednet) in targets
    assert ("write", m.paths.state_file) in targets


def test_dry_run_of_a_cache_stage_without_cache_acquires_the_config(
        m: Machine, capsys: pytest.CaptureFixture[str]) -> None:
    m.config(SIMPLE)
    before = snapshot(m.tmp)
    assert m.run("files", dry_run=True) == 0
    assert snapshot(m.tmp) == before
    assert "acquiring the config as fetch would" in m.sink.text
    plan = capsys.readouterr().out
    assert "would write /etc/hostname (type file, mode 0644, owner 0:0, size 5, sha256 " in plan
    assert "would write /etc/.ignition-result.json" in plan


def test_files_stage_writes_into_the_root(m: Machine) -> None:
    m.config(SIMPLE)
    assert m.run("fetch-offline") == 0
    assert m.run("files") == 0
    assert (m.root / "etc/hostname").read_bytes() == b"node1"
    assert mode(str(m.root / "etc/hostname")) == 0o644
    assert json.loads((m.root / "etc/.ignition-result.json").read_text())["userConfigProvided"] is True


def test_a_bug_is_one_critical_line_and_exit_1(m: Machine, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: FetchOfflineStage, ctx: object) -> None:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(FetchOfflineStage, "run", boom)
    m.config(SIMPLE)
    assert m.run("fetch-offline") == engine.EXIT_FAILED
    (crit,) = m.sink.critical()
    assert "internal error (ZeroDivisionError: oops)" in crit
    assert "Traceback" in m.sink.text  # at debug level, for the bug report


def test_cache_stages_read_our_cache_without_the_validator(m: Machine) -> None:
    m.config(SIMPLE)
    assert m.run("fetch-offline") == 0
    from ignition.config.cache import read_cache

    config = read_cache(Path(m.paths.config_cache).read_bytes())
    assert config is not None and config.storage.files[0].path == "/etc/hostname"
    assert read_cache(b'{"ignition": {"version": "3.3.0"}}') is None  # not ours: the full parser decides
    assert read_cache(b"[1]") is None and read_cache(b"{") is None


@pytest.mark.allow_subprocess
def test_starting_a_cache_stage_does_not_load_the_validator() -> None:
    import subprocess
    import sys

    code = "import sys, ignition.engine; print('jsonschema' in sys.modules, 'requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
