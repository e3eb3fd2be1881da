"""The same command line, run by Debian's Go Ignition and by ours.

A distro's units call `ignition` with Ignition's flags; whatever form they use
must work with ours and produce the same cache and state. (fetch-offline is
the stage both implement today; more stages join as they land.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.root, pytest.mark.oracle]

GO_IGNITION = "/usr/lib/dracut/modules.d/30ignition/ignition"
OURS = os.path.join(os.path.dirname(sys.executable), "ignition")
DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.ign"

FORMS = [
    "-platform file -stage fetch-offline -root {root} -config-cache {cache} -state-file {state} -neednet {nn}",
    "--platform=file --stage=fetch-offline --root={root} --config-cache={cache} --state-file={state} "
    "--neednet={nn}",
    "-platform=file -stage=fetch-offline --root {root} -config-cache={cache} --state-file {state} -neednet={nn}",
]


def normalized(value: Any) -> Any:
    """Drop what only differs in spelling: unset fields (Go writes empty
    objects for them) and the spec version of the cache."""
    if isinstance(value, dict):
        out = {k: normalized(v) for k, v in value.items() if k != "version"}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def run(binary: str, form: str, tmp: Path, who: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    work = tmp / who
    (work / "root").mkdir(parents=True)
    argv = form.format(root=work / "root", cache=work / "cache.json", state=work / "state",
                       nn=work / "neednet").split()
    env = dict(os.environ, IGNITION_CONFIG_FILE=str(DEMO), IGNITION_KERNEL_CMDLINE_PATH=str(tmp / "cmdline"),
               IGNITION_SYSTEM_CONFIG_DIR=str(tmp / "sys"), IGNITION_SYSTEM_LOCAL_CONFIG_DIR=str(tmp / "local"),
               IGNITION_SYSTEM_RUNTIME_CONFIG_DIR=str(tmp / "runtime"),
               IGNITION_JOURNAL_SOCKET=str(tmp / "no-journal"))
    proc = subprocess.run([binary, *argv, "-log-to-stdout"], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    return proc, work


@pytest.fixture(scope="module", autouse=True)
def _go_ignition() -> None:
    if not os.access(GO_IGNITION, os.X_OK):
        pytest.fail(f"{GO_IGNITION} is missing: scripts/setup.sh installs Debian's ignition package")
    assert shutil.which(OURS) or os.access(OURS, os.X_OK), OURS


@pytest.mark.parametrize("form", FORMS)
def test_fetch_offline_same_command_line_same_cache(form: str, tmp_path: Path) -> None:
    (tmp_path / "cmdline").write_text("BOOT_IMAGE=/vmlinuz ignition.firstboot\n")
    go, go_dir = run(GO_IGNITION, form, tmp_path, "go")
    ours, our_dir = run(OURS, form, tmp_path, "ours")
    assert go.returncode == 0, go.stdout + go.stderr
    assert ours.returncode == 0, ours.stdout + ours.stderr
    go_cache = json.loads((go_dir / "cache.json").read_text())
    our_cache = json.loads((our_dir / "cache.json").read_text())
    assert normalized(our_cache) == normalized(go_cache)
    assert normalized(json.loads(DEMO.read_text())) == normalized(our_cache)
    for name, mode in (("cache.json", 0o640), ("state", 0o600)):
        assert (our_dir / name).stat().st_mode & 0o777 == (go_dir / name).stat().st_mode & 0o777 == mode
    go_user = [c for c in json.loads((go_dir / "state").read_text())["fetchedConfigs"] if c["kind"] == "user"]
    our_user = json.loads((our_dir / "state").read_text())["fetchedConfigs"]
    assert our_user == go_user
    assert not (go_dir / "neednet").exists() and not (our_dir / "neednet").exists()


def test_both_reject_the_same_bad_flags(tmp_path: Path) -> None:
    for argv in (["-platform", "bogus", "-stage", "files"], ["-platform", "file"], ["-plat", "file"],
                 ["-platform", "file", "-stage", "nope"]):
        go = subprocess.run([GO_IGNITION, *argv], capture_output=True, text=True, timeout=30, check=False)
        ours = subprocess.run([OURS, *argv], capture_output=True, text=True, timeout=30, check=False)
        assert go.returncode == ours.returncode == 2, (argv, go.stderr, ours.stderr)
