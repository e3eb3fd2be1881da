"""Root tests of the disks stage on loop devices: our `ignition` binary runs
fetch-offline then disks on freshly prepared images; the result is read back
with sfdisk, blkid and a read-only mount. Negative cases also prove that
nothing was lost: every disk is byte for byte what it was."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.root.loopdev import Attach, check_expected, digest, loops, prepare, table, udevd  # noqa: F401 - fixtures
from tests.root.oracle import OURS, run_stages
from tests.root.test_disks_cases import NEGATIVE, POSITIVE, Case, cfg, d0

pytestmark = pytest.mark.root


def run_case(case: Case, loops: Attach, tmp_path: Path) -> tuple[list[str], int, str]:  # noqa: F811
    disks = [loops(size, case.sector) for size in case.sizes]
    prepare(case, disks)
    work = tmp_path / "work"
    (work / "root").mkdir(parents=True)
    res = run_stages(OURS, work, case.render(disks), ["fetch-offline", "disks"])
    return disks, res.rc, res.log


@pytest.mark.parametrize("case", POSITIVE, ids=[c.name for c in POSITIVE])
def test_positive(case: Case, loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    disks, rc, log = run_case(case, loops, tmp_path)
    assert rc == 0, log
    assert check_expected(case, disks) == [], log


@pytest.mark.parametrize("case", NEGATIVE, ids=[c.name for c in NEGATIVE])
def test_negative_changes_nothing(case: Case, loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    disks = [loops(size, case.sector) for size in case.sizes]
    prepare(case, disks)
    before = [digest(d) for d in disks]
    work = tmp_path / "work"
    (work / "root").mkdir(parents=True)
    res = run_stages(OURS, work, case.render(disks), ["fetch-offline", "disks"])
    assert res.rc == 1, res.log
    assert case.error in res.log
    assert [digest(d) for d in disks] == before, "a failed run changed a disk"


def test_match_all_leaves_the_disk_byte_for_byte(loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    case = next(c for c in POSITIVE if c.name == "match.all")
    disks = [loops(64)]
    prepare(case, disks)
    before = digest(disks[0])
    res = run_stages(OURS, tmp_path, case.render(disks), ["fetch-offline", "disks"])
    assert res.rc == 0, res.log
    assert digest(disks[0]) == before


def test_dry_run_prints_tables_and_changes_nothing(loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    case = next(c for c in POSITIVE if c.name == "match.recreate.delete.add")
    disks = [loops(64)]
    prepare(case, disks)
    before = digest(disks[0])
    config = case.render(disks)
    config["storage"]["filesystems"] = [{"device": disks[0] + "p1", "format": "ext4", "wipeFilesystem": True}]
    run_stages(OURS, tmp_path, config, ["fetch-offline"])
    env = dict(os.environ, IGNITION_JOURNAL_SOCKET=str(tmp_path / "nj"))
    p = subprocess.run([OURS, "-platform", "file", "-stage", "disks", "-root", str(tmp_path / "root"),
                        "-config-cache", str(tmp_path / "run/ignition.json"), "-state-file",
                        str(tmp_path / "run/state"), "--dry-run", "--json"],
                       env=env, capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stderr
    entries = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    tbl = next(e for e in entries if e["target"] == f"partition table of {disks[0]}")
    assert "label 'C'" in tbl["before"] and "label 'C'" not in tbl["after"]
    assert tbl["delete"] == "2,3" and tbl["create"] == "2,4"
    assert any(e["action"] == "create filesystem" and e["target"] == disks[0] + "p1" for e in entries)
    assert digest(disks[0]) == before


@pytest.mark.parametrize("section", ["raid", "luks"])
def test_raid_and_luks_fail_before_touching_a_disk(section: str, loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    disks = [loops(64)]
    before = digest(disks[0])
    config = cfg([d0({"number": 1, "sizeMiB": 4}, wipe=True)])
    config["storage"][section] = ([{"name": "md0", "level": "raid1", "devices": [disks[0]]}] if section == "raid"
                                  else [{"name": "c", "device": disks[0], "wipeVolume": True}])
    res = run_stages(OURS, tmp_path, Case("x", config).render(disks), ["fetch-offline", "disks"])
    assert res.rc == 1 and "no disk was touched" in res.log  # no md, no device-mapper on this kernel
    assert digest(disks[0]) == before and table(disks[0]) == []


def assert_refused_while_mounted(case_name: str, config: dict[str, Any], says: str, loops: Attach,  # noqa: F811
                                 tmp_path: Path) -> None:
    """With partition 1 of the prepared disk mounted, the stage fails saying
    `says` ({node} and {mnt} filled in) and the disk is byte for byte as it was."""
    case = next(c for c in POSITIVE if c.name == case_name)
    disks = [loops(64)]
    prepare(case, disks)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["mount", "-o", "ro", disks[0] + "p1", str(mnt)], check=True)
    try:
        before = digest(disks[0])
        res = run_stages(OURS, tmp_path, Case("x", config).render(disks), ["fetch-offline", "disks"])
        assert res.rc == 1 and says.format(node=disks[0] + "p1", mnt=mnt) in res.log, res.log
        assert digest(disks[0]) == before
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("wipe_table", [False, True])
def test_mounted_partition_is_not_rewritten(wipe_table: bool, loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    config = cfg([d0({"number": 1, "shouldExist": False, "wipePartitionEntry": True},
                     {"number": 2, "sizeMiB": 4}, wipe=wipe_table)])
    assert_refused_while_mounted("resize.keeps.data", config, "{node} is mounted at {mnt}", loops, tmp_path)


def test_mounted_filesystem_is_not_reformatted(loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    config = cfg([d0({"number": 2, "sizeMiB": 4})], [{"device": "{d0}p1", "format": "xfs", "wipeFilesystem": True}])
    assert_refused_while_mounted("fs.reuse.keeps.files", config,
                                 "refusing to format {node}: it is mounted at {mnt}", loops, tmp_path)


def test_new_partitions_links_exist_when_the_stage_ends(loops: Attach, tmp_path: Path) -> None:  # noqa: F811
    """The stage waits for udev (pyudev) before it goes on: a filesystem named
    by the new partition's by-partlabel link works in the same config, and the
    links are there when the stage returns, with no settle in between."""
    label = f"ign-udev-{os.getpid()}-{tmp_path.name[-8:]}"
    disks = [loops(64)]
    config = {"ignition": {"version": "3.4.0"},
              "storage": {"disks": [{"device": disks[0], "wipeTable": True,
                                     "partitions": [{"label": label, "sizeMiB": 16},
                                                    {"label": label + "-b"}]}],
                          "filesystems": [{"device": f"/dev/disk/by-partlabel/{label}", "format": "ext4",
                                           "wipeFilesystem": True, "label": "udevwait"}]}}
    res = run_stages(OURS, tmp_path, config, ["fetch-offline", "disks"])
    assert res.rc == 0, res.log
    assert "systemd-udevd is not running" not in res.log
    # udev was waited for before the filesystem step, not only by the settle at the end
    waited = res.log.index(f"udev has set up {disks[0]}p1, {disks[0]}p2 and their links")
    assert waited < res.log.index("mkfs"), res.log
    for name in (label, label + "-b"):
        assert os.path.lexists(f"/dev/disk/by-partlabel/{name}"), res.log
    blkid = subprocess.run(["blkid", "-p", "-o", "value", "-s", "LABEL", disks[0] + "p1"],
                           capture_output=True, text=True, check=False).stdout.strip()
    assert blkid == "udevwait", res.log
