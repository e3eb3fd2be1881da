"""The plan is the truth: for the disks stage's cases, ignition-plan against
the case's image file says what the real disks stage then does to a loop
device of that same image. The plan's after-table is compared with
`sfdisk --json` of the result, its filesystem decisions with `blkid -p`, and
a plan that says the boot fails is a boot that fails (with the same error),
and the other way round."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.root.loopdev import Attach, filesystem, loops, prepare, sh, table, udevd  # noqa: F401 - fixtures
from tests.root.oracle import OURS, run_stages
from tests.root.test_disks_cases import NEGATIVE, POSITIVE, Case

pytestmark = pytest.mark.root

PLAN = str(Path(sys.executable).with_name("ignition-plan"))
CASES = POSITIVE + NEGATIVE


def backing(dev: str) -> str:
    return sh("losetup", "--noheadings", "--output", "BACK-FILE", dev).strip()


def plan_of(config: dict[str, Any], disks: list[str], tmp_path: Path, sector: int) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "plan.ign"
    path.write_text(json.dumps(config))
    argv = [PLAN, "--json", str(path)]
    for d in disks:
        argv += ["--disk", f"{d}={backing(d)}", "--sector-size", f"{d}={sector}"]
    p = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


def boot_error(log: str) -> str:
    lines = [line for line in log.splitlines() if "stage failed: " in line]
    return lines[-1].split("stage failed: ", 1)[1].strip() if lines else ""


def mismatches(doc: dict[str, Any], disks: list[str]) -> list[str]:
    errs = []
    for d in doc["disks"]:
        want = [(p["number"], p["label"], p["start"], p["size"], p["typeGuid"].upper()) for p in d["after"]]
        got = [row[:5] for row in table(d["device"])]
        if got != want:
            errs.append(f"{d['device']}: planned {want}, sfdisk reads {got}")
        for p in d["after"]:
            if p["guid"]:
                real = {row[0]: row[5] for row in table(d["device"])}.get(p["number"], "")
                if real.lower() != p["guid"]:
                    errs.append(f"{d['device']} partition {p['number']}: planned GUID {p['guid']}, got {real}")
    for f in doc["filesystems"]:
        typ, label, uuid = filesystem(f["node"])
        found = f["found"]
        want_type = {"create": f["format"], "reuse": found["type"], "wipe": "", "none": found["type"]}[f["action"]]
        want_label = {"create": f["label"] or "", "wipe": ""}.get(f["action"], found["label"])
        if (typ, label) != (want_type, want_label):
            errs.append(f"{f['node']}: planned {f['action']} -> {(want_type, want_label)}, "
                        f"blkid -p reads {(typ, label)}")
        if f["action"] == "create" and f["uuid"] and uuid.replace("-", "").lower() != \
                f["uuid"].replace("-", "").lower():
            errs.append(f"{f['node']}: planned UUID {f['uuid']}, blkid -p reads {uuid}")
        if f["action"] == "reuse" and uuid != found["uuid"]:
            errs.append(f"{f['node']}: reused, but its UUID changed from {found['uuid']} to {uuid}")
    return errs


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_plan_matches_the_real_disks_stage(case: Case, loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    disks = [loops(size, case.sector) for size in case.sizes]
    prepare(case, disks)
    config = case.render(disks)
    rc, doc = plan_of(config, disks, tmp_path, case.sector)
    assert [(d["device"], d["source"]) for d in doc["machine"]["disks"]] == [(d, "image") for d in disks], \
        "the plan assumed a disk the case describes"
    work = tmp_path / "work"
    (work / "root").mkdir(parents=True)
    res = run_stages(OURS, work, config, ["fetch-offline", "disks"])
    assert (rc == 1) == (res.rc == 1), f"plan exit {rc} ({doc['result']['error']}), boot exit {res.rc}:\n{res.log}"
    if rc == 1:
        assert doc["result"]["stoppedAt"] == "disks"
        assert doc["result"]["error"] == boot_error(res.log)
        return
    assert mismatches(doc, disks) == [], res.log
