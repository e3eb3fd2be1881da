"""The validation corpus (tests/data/configs, written by generate.py there): for every case our
parser gives the manifest's verdict and exactly its error and warning paths.

A case with `ours_bug` records a known defect of our validator: it is expected to fail (strict
xfail), so the day it is fixed the test says so and the mark comes off the case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ignition.config.parse import EmptyConfig, parse
from ignition.config.report import Report, json_path
from ignition.errors import ConfigError

CORPUS = Path(__file__).resolve().parents[1] / "data" / "configs"
MANIFEST: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())


def outcome(raw: bytes) -> tuple[bool, list[str], list[str]]:
    """(valid, sorted error paths, sorted warning paths) as our parser reports them."""
    try:
        report: Report = parse(raw).report
        valid = True
    except EmptyConfig:
        return False, [], []
    except ConfigError as e:
        assert isinstance(e.report, Report)
        report = e.report
        valid = False
    return (valid, sorted(json_path(x.path) for x in report.errors),
            sorted(json_path(x.path) for x in report.warnings))


def _param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(reason=case["ours_bug"], strict=True)] if "ours_bug" in case else []
    return pytest.param(case, id=case["file"].removesuffix(".json"), marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in MANIFEST])
def test_case(case: dict[str, Any]) -> None:
    raw = (CORPUS / case["file"]).read_bytes()
    got = dict(zip(("valid", "errors", "warnings"), outcome(raw), strict=True))
    want = {k: case[k] for k in ("valid", "errors", "warnings")}
    assert got == want, case["name"]


def test_manifest_is_consistent() -> None:
    files = [c["file"] for c in MANIFEST]
    assert len(files) == len(set(files)), "duplicate case files"
    on_disk = {p.name for p in CORPUS.glob("*.json")} - {"manifest.json"}
    assert on_disk == set(files), "corpus files and manifest disagree: run generate.py"
    for c in MANIFEST:
        assert not (c["valid"] and c["errors"]), f"{c['file']}: valid with errors"
        assert c["errors"] == sorted(c["errors"]) and c["warnings"] == sorted(c["warnings"]), c["file"]


def test_corpus_covers_what_it_must() -> None:
    versions = {c["version"] for c in MANIFEST}
    assert {"3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0"} <= versions
    assert len(MANIFEST) >= 250
    assert sum(c["valid"] for c in MANIFEST) >= 75
    assert sum(not c["valid"] for c in MANIFEST) >= 75
    assert any(c["errors"] == ["$"] for c in MANIFEST), "syntax errors"
    assert any(c["warnings"] for c in MANIFEST), "warnings"
