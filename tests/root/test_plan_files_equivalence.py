"""The plan is the truth for the files stage too: for the files stage's oracle
configs, ignition-plan with `--root` set to a tree lists exactly the files,
directories and links (kind, mode, size, link target, owner) that the real
fetch-offline + files stages then write into a copy of that tree, and the
users and groups it adds, modifies or deletes; a plan that fails is a boot
that fails, and the other way round."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.root.oracle import BYPRODUCTS, OURS, make_base_tree, run_stages, snapshot
from tests.root.test_files_oracle import CASES, NEGATIVE

pytestmark = pytest.mark.root

PLAN = str(Path(sys.executable).with_name("ignition-plan"))
# What the result file holds depends on the boot (its id, the fetched configs), not on the plan.
VOLATILE = {"/etc/.ignition-result.json"}
KINDS = {stat.S_IFREG: "file", stat.S_IFDIR: "directory", stat.S_IFLNK: "link"}


@pytest.fixture
def work() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="ignition-plan-eq-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d)


def _table(root: Path, name: str) -> dict[str, list[str]]:
    return {line.split(":")[0]: line.split(":") for line in (root / "etc" / name).read_text().splitlines() if line}


def _changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {"/" + k for k in after if before.get(k) != after[k] and k not in BYPRODUCTS}


def _accounts(before: Path, after: Path, name: str) -> list[dict[str, str]]:
    old, new = _table(before, name), _table(after, name)
    out = [{"name": n, "action": "delete"} for n in old if n not in new]
    out += [{"name": n, "action": "add"} for n in new if n not in old]
    out += [{"name": n, "action": "modify"} for n in new if n in old and new[n] != old[n]]
    return sorted(out, key=lambda d: d["name"])


def check(doc: dict[str, Any], pristine: Path, root: Path) -> list[str]:
    errs = []
    passwd = _table(root, "passwd")
    group = _table(root, "group")
    added_homes = [passwd[u["name"]][5] for u in doc["users"] if u["action"] == "add" and u["name"] in passwd]
    planned: dict[str, dict[str, Any]] = {}
    for f in doc["files"]:
        if f["kind"] != "remove":
            planned[f["path"]] = f  # the last entry for a path says what it is
    for path, f in planned.items():
        p = root / path.lstrip("/")
        if not os.path.lexists(p):
            errs.append(f"{path}: planned {f['kind']}, not in the tree")
            continue
        st = os.lstat(p)
        kind = KINDS.get(stat.S_IFMT(st.st_mode), "other")
        # chmod/chown: a node that was there already changes mode or owner
        want_kind = {"append": "file", "hardlink": "file", "chmod": kind, "chown": kind}.get(f["kind"], f["kind"])
        if kind != want_kind:
            errs.append(f"{path}: planned {f['kind']}, the tree has a {kind}")
            continue
        if f["mode"] and kind != "link" and int(f["mode"], 8) != stat.S_IMODE(st.st_mode):
            errs.append(f"{path}: planned mode {f['mode']}, the tree has {stat.S_IMODE(st.st_mode):04o}")
        if kind == "file" and f["kind"] == "file" and f["size"] != st.st_size and path not in VOLATILE:
            errs.append(f"{path}: planned {f['size']} bytes, the tree has {st.st_size}")
        if kind == "link" and os.readlink(p) != f["target"]:
            errs.append(f"{path}: planned link to {f['target']}, the tree has {os.readlink(p)}")
        if f["owner"] and not any(path.startswith(h.rstrip("/") + "/") for h in added_homes):
            # a user the plan adds gets its uid from useradd at boot (docs/plan.md)
            user, _, grp = f["owner"].partition(":")
            uid = int(passwd[user][2]) if user in passwd else int(user) if user.isdigit() else -1
            gid = int(group[grp][2]) if grp in group else int(grp) if grp.isdigit() else -1
            if (uid, gid) != (st.st_uid, st.st_gid) and grp != "-":
                errs.append(f"{path}: planned owner {f['owner']}, the tree has {st.st_uid}:{st.st_gid}")
    made = _changed(snapshot(pristine), snapshot(root))
    homes = [h.rstrip("/") for h in added_homes]
    unlisted = sorted(p for p in made - set(planned) - {"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow",
                                                       "/etc/subuid", "/etc/subgid"}
                      if not any(p == h or p.startswith(h + "/") for h in homes))
    if unlisted:
        errs.append(f"written by the stage but not in the plan: {unlisted}")
    for name, key in (("passwd", "users"), ("group", "groups")):
        real = _accounts(pristine, root, name)
        if key == "groups":  # useradd's own group for a new user, and memberships, are useradd's doing
            real = [g for g in real if g["action"] != "modify" and not (g["action"] == "add" and g["name"] in passwd)]
        planned_changes = sorted((d["name"], d["action"]) for d in doc[key] if d["action"] != "modify")
        real_changes = sorted((d["name"], d["action"]) for d in real if d["action"] != "modify")
        if planned_changes != real_changes:
            errs.append(f"{key}: planned {planned_changes}, the tree says {real_changes}")
        known = _table(pristine, name)
        errs += [f"{key}: planned to modify {d['name']}, which the root does not have"
                 for d in doc[key] if d["action"] == "modify" and d["name"] not in known]
    return errs


def plan(config: dict[str, Any], root: Path, work: Path) -> tuple[int, dict[str, Any]]:
    path = work / "plan.ign"
    path.write_text(json.dumps(config))
    p = subprocess.run([PLAN, "--json", str(path), "--root", str(root)], capture_output=True, text=True, check=False)
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


Case = tuple[str, dict[str, Any], Callable[[Path], None] | None]


@pytest.mark.parametrize(("name", "config", "setup"), CASES + NEGATIVE, ids=[c[0] for c in CASES + NEGATIVE])
def test_plan_lists_what_the_files_stage_writes(name: str, config: dict[str, Any],
                                                setup: Callable[[Path], None] | None, work: Path) -> None:
    pristine = work / "pristine"
    make_base_tree(pristine)
    if setup:
        setup(pristine)
    before = snapshot(pristine)
    rc, doc = plan(config, pristine, work)
    assert snapshot(pristine) == before, "planning changed the --root tree"
    boot = work / "boot"
    boot.mkdir()
    subprocess.run(["cp", "-a", str(pristine), str(boot / "root")], check=True)  # owners too
    res = run_stages(OURS, boot, config, ["fetch-offline", "files"])
    assert (rc == 1) == (res.rc != 0), f"plan exit {rc} ({doc['result']['error']}), boot exit {res.rc}:\n{res.log}"
    if rc == 1:
        assert doc["result"]["error"] in res.log
        return
    assert check(doc, pristine, boot / "root") == [], res.log


def _image_of(tree: Path, work: Path) -> Path:
    """A disk image whose partition 1 'root' (at 1 MiB) is an ext4 holding `tree`, as
    distributions build root images (mkfs.ext4 -d, no mount)."""
    (tree / "lost+found").mkdir(mode=0o700, exist_ok=True)  # what mkfs.ext4 adds: in the pristine tree too
    img = work / "disk.img"
    with open(img, "wb") as f:
        f.truncate(IMAGE_MIB << 20)
    subprocess.run(["sfdisk", "--quiet", str(img)], input=f"label: gpt\nstart=2048, size={(IMAGE_MIB - 2) * 2048}, "
                   "name=root\n".encode(), check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(tree), "-E", "offset=1048576", str(img),
                    f"{IMAGE_MIB - 2}M"], check=True, capture_output=True)
    return img


IMAGE_MIB = 48


@pytest.mark.parametrize(("name", "config", "setup"), CASES + NEGATIVE, ids=[c[0] for c in CASES + NEGATIVE])
def test_plan_against_an_image_root_lists_what_the_files_stage_writes_into_it(
        name: str, config: dict[str, Any], setup: Callable[[Path], None] | None, work: Path) -> None:
    """The same, with the root read from a disk image (debugfs) instead of --root; the boot's
    files stage then runs on that filesystem mounted from a loop device, as the initrd mounts it."""
    pristine = work / "pristine"
    make_base_tree(pristine)
    if setup:
        setup(pristine)
    img = _image_of(pristine, work)
    path = work / "plan.ign"
    path.write_text(json.dumps(config))
    p = subprocess.run([PLAN, "--json", str(path), "--disk", f"/dev/vda={img}"], capture_output=True, text=True,
                       check=False)
    assert p.returncode in (0, 1), p.stderr
    rc, doc = p.returncode, json.loads(p.stdout)
    assert [(t["path"], t["contents"]) for t in doc["trees"]][:1] == [("/", "read")]
    boot = work / "boot"
    (boot / "root").mkdir(parents=True)
    loop = subprocess.run(["losetup", "--find", "--show", "--offset", "1048576", "--sizelimit",
                           str((IMAGE_MIB - 2) << 20), str(img)],
                          capture_output=True, text=True, check=True).stdout.strip()
    try:
        subprocess.run(["mount", loop, str(boot / "root")], check=True)
        try:
            res = run_stages(OURS, boot, config, ["fetch-offline", "files"])
            assert (rc == 1) == (res.rc != 0), \
                f"plan exit {rc} ({doc['result']['error']}), boot exit {res.rc}:\n{res.log}"
            if rc == 1:
                assert doc["result"]["error"] in res.log
                return
            assert check(doc, pristine, boot / "root") == [], res.log
        finally:
            subprocess.run(["umount", str(boot / "root")], check=True)
    finally:
        subprocess.run(["losetup", "--detach", loop], check=True)
