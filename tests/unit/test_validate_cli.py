"""`ignition-validate FILE|-`."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from ignition.cli import validate_main

GOOD = '{"ignition": {"version": "3.2.0"}, "storage": {"files": [{"path": "/a"}]}}'


def test_valid_config_exits_0_silently(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "c.ign"
    f.write_text(GOOD)
    assert validate_main([str(f)]) == 0
    assert capsys.readouterr().out == ""


def test_warnings_are_printed_but_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "c.ign"
    f.write_text('{"ignition": {"version": "3.2.0"}, "storag": {}}')
    assert validate_main([str(f)]) == 0
    assert capsys.readouterr().out.startswith("warning at $.storag, line 1 col 46: unused key storag")


def test_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "c.ign"
    f.write_text('{"ignition": {"version": "3.2.0"},\n "storage": {"files": {}}}')
    assert validate_main([str(f)]) == 1
    assert capsys.readouterr().out.startswith("error at $.storage.files, line 2 col 23: must be a list")


def test_stdin_and_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"ignition": {"version": "9.9.9"}}')))
    assert validate_main(["--json", "-"]) == 1
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["kind"] == "error" and entry["path"] == "$.ignition.version"
    assert "unsupported config version 9.9.9" in entry["message"]


def test_empty_and_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "c.ign"
    f.write_text("")
    assert validate_main([str(f)]) == 1
    assert "not a config (empty)" in capsys.readouterr().out
    assert validate_main([str(tmp_path / "nope.ign")]) == 1
    assert "No such file" in capsys.readouterr().err
