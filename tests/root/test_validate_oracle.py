"""Differential test of the validator against Debian's Go `ignition-validate` (Ignition 2.14).

Every corpus case (tests/data/configs) that 2.14 can judge runs through both validators: all but
those declaring the stable specs 3.4.0-3.6.0, which are newer than 2.14 (its answer there would
only be "unsupported version"). Version-error cases (2.x, garbage, 3.4.0-experimental, which
2.14 knows) are included. The two must agree on valid/invalid, and Go must agree with the
manifest, except:
- `go_differs` cases: Go 2.14 gives the other verdict for the recorded reason (a check added
  in later Ignition, a deliberate difference); the test asserts they still differ, so the
  day they agree the reason is stale and the listing says so;
- `ours_bug` cases: our verdict is known to be wrong (tests/unit/test_corpus.py xfails them);
  Go must still give the manifest's verdict.
Disagreements are listed in one table, one line per case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ignition.config.parse import EmptyConfig, parse
from ignition.errors import ConfigError

pytestmark = [pytest.mark.root, pytest.mark.oracle]

GO_VALIDATE = "/usr/bin/ignition-validate"
OURS = os.path.join(os.path.dirname(sys.executable), "ignition-validate")
CORPUS = Path(__file__).resolve().parents[1] / "data" / "configs"
MANIFEST: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())
NEWER_THAN_GO = ("3.4.0", "3.5.0", "3.6.0")
CASES = [c for c in MANIFEST if c["version"] not in NEWER_THAN_GO]


@pytest.fixture(scope="module", autouse=True)
def _go_validate() -> None:
    if not os.access(GO_VALIDATE, os.X_OK):
        pytest.fail(f"{GO_VALIDATE} is missing: scripts/setup.sh installs Debian's ignition package")


def go_verdict(raw: bytes) -> tuple[bool, str]:
    p = subprocess.run([GO_VALIDATE, "-"], input=raw, capture_output=True, timeout=30, check=False)
    if p.returncode not in (0, 1):
        raise AssertionError(f"{GO_VALIDATE} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    first = (p.stdout or p.stderr).decode(errors="replace").strip().splitlines()
    return p.returncode == 0, first[0] if first else ""


def our_verdict(raw: bytes) -> tuple[bool | None, str]:
    """(valid, first line of the report); valid is None when parse crashed (a bug)."""
    try:
        report = parse(raw).report
    except EmptyConfig as e:
        return False, str(e)
    except ConfigError as e:
        errors = e.report.errors  # type: ignore[attr-defined]
        return False, str(errors[0]) if errors else str(e)
    except Exception as e:  # a crash is a finding: listed with the disagreements
        return None, f"crashed: {type(e).__name__}: {e}"
    return True, str(report.entries[0]) if report.entries else ""


def _word(valid: bool | None) -> str:
    return "crashed" if valid is None else "valid" if valid else "invalid"



def judge(case: dict[str, Any], go: bool, ours: bool | None) -> str | None:
    """What is wrong with this case's outcome, or None."""
    want = case["valid"]
    if "go_differs" in case:
        if go == ours:
            return (f"go_differs no longer holds: Go 2.14 now says {_word(go)} like ours; drop the mark "
                    f"(reason was: {case['go_differs']})")
        return None
    if go != want:
        return f"Go 2.14 says {_word(go)}, the manifest {_word(want)}: wrong expectation, or add go_differs"
    if ours != go and "ours_bug" not in case:
        return f"ours says {_word(ours)}, Go 2.14 {_word(go)}"
    return None


def test_go_and_ours_agree_on_every_case() -> None:
    assert len(CASES) >= 150

    def run(case: dict[str, Any]) -> tuple[dict[str, Any], tuple[bool, str], tuple[bool | None, str]]:
        raw = (CORPUS / case["file"]).read_bytes()
        return case, go_verdict(raw), our_verdict(raw)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, CASES))
    problems = []
    for case, (go, go_first), (ours, our_first) in results:
        problem = judge(case, go, ours)
        if problem:
            problems.append(f"{case['file']}: {problem}\n    go:   {go_first[:150]}\n    ours: {our_first[:150]}")
    assert not problems, f"{len(problems)} of {len(CASES)} cases disagree:\n" + "\n".join(problems)


@pytest.mark.parametrize("case", CASES[::15], ids=lambda c: c["file"].removesuffix(".json"))
def test_our_cli_exit_code_is_the_verdict(case: dict[str, Any]) -> None:
    """The in-process verdict above is what our `ignition-validate` exits with."""
    raw = (CORPUS / case["file"]).read_bytes()
    p = subprocess.run([OURS, "-"], input=raw, capture_output=True, timeout=60, check=False)
    assert p.returncode in (0, 1), p.stderr
    assert (p.returncode == 0) == bool(our_verdict(raw)[0]), p.stdout + p.stderr
