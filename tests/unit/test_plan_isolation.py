"""ignition-plan needs no privilege and leaves the laptop as it was: run as
an unprivileged user, it opens no device (strace watches every open of the
process tree), writes nothing outside its temp dir, and removes that."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ignition.planner.cli import main
from tests.unit.planimages import ext4_from, image, os_tree, sh

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.ign"
HARMLESS = {"/dev/null", "/dev/urandom", "/dev/random"}


@pytest.fixture
def shared() -> Iterator[Path]:
    """A directory an unprivileged user can read (pytest's own tmp dirs are private)."""
    d = Path(tempfile.mkdtemp(prefix="plan-iso-", dir="/tmp"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d)


def _unprivileged() -> list[str]:
    if os.geteuid() != 0:
        return []  # already a normal user
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def _opens(trace: Path) -> list[tuple[str, str]]:
    """(path, flags) of every successful open in an strace -f log."""
    out = []
    for line in trace.read_text().splitlines():
        if "open" not in line or "= -1" in line or '"' not in line:
            continue
        path = line.split('"', 2)[1]
        out.append((path, line.split('"', 2)[2]))
    return out


def _os_image(shared: Path) -> Path:
    """Partition 1 'root' (ext4 holding an OS tree), 2 'B' (ext4 DATA), 3 'secret' (a LUKS2 volume)."""
    img = image(shared / "disk.img", 64, [(1, 10, "root"), (11, 10, "B"), (21, 20, "secret")], [(11, 10, "DATA")])
    ext4_from(img, 1, 10, "os", os_tree(shared / "tree"))
    vol = shared / "vol.img"
    with open(vol, "wb") as f:
        f.truncate(20 << 20)
    (shared / "key").write_text("k")
    sh("cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations",
       "1000", "--key-file", str(shared / "key"), str(vol))
    sh("dd", f"if={vol}", f"of={img}", "bs=1M", "seek=21", "conv=notrunc,sparse", "status=none")
    return img


@pytest.mark.allow_subprocess
def test_as_an_unprivileged_user_no_device_is_opened_and_nothing_is_left(shared: Path) -> None:
    # The image's root is read with debugfs and its LUKS header with cryptsetup: as a normal user too.
    img = _os_image(shared)
    config = shared / "c.ign"
    demo = json.loads(DEMO.read_text())
    demo["storage"]["disks"][0]["partitions"] = [{"number": 4, "label": "demo-data", "sizeMiB": 0}]
    demo["storage"]["luks"] = [{"name": "vault", "device": "/dev/disk/by-partlabel/secret",
                                "keyFile": {"source": "data:,k"}}]
    config.write_text(json.dumps(demo))
    config.chmod(0o644)
    tmp = shared / "tmp"
    tmp.mkdir()
    tmp.chmod(0o777)
    trace = shared / "trace"
    strace = ["strace", "-f", "-qq", "-e", "trace=open,openat,openat2,creat", "-o", str(trace)] \
        if shutil.which("strace") else []
    argv = [*strace, *_unprivileged(), sys.executable, "-c",
            "import sys; from ignition.planner.cli import main; sys.exit(main())",
            str(config), "--json", "--disk", f"/dev/vda={img}"]
    env = dict(os.environ, TMPDIR=str(tmp), PYTHONDONTWRITEBYTECODE="1", HOME=str(tmp))
    p = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=str(shared), check=False)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert [(d["device"], d["source"]) for d in doc["machine"]["disks"]] == [("/dev/vda", "image")]
    assert [r["action"] for r in doc["disks"][0]["after"]] == ["keep", "keep", "keep", "create"]
    assert [(t["path"], t["contents"]) for t in doc["trees"]] == [("/", "read"), ("/var/lib/demo", "new")]
    assert [(v["path"], v["action"]) for v in doc["luks"]] == [("/dev/mapper/vault", "reuse")]
    assert list(tmp.iterdir()) == [], "the plan's temp dir was left behind"
    if strace:
        opens = _opens(trace)
        assert any(path == str(img) for path, _ in opens), "the trace saw no open of the image"
        devices = sorted({path for path, _ in opens if path.startswith("/dev/") and path not in HARMLESS})
        assert devices == [], f"opened devices of this machine: {devices}"
        assert not [path for path, _ in opens if path.startswith(("/sys/block", "/sys/class/block"))]
        written = sorted({path for path, flags in opens if ("O_WRONLY" in flags or "O_RDWR" in flags
                                                            or "O_CREAT" in flags)
                          and not path.startswith(str(tmp)) and path not in HARMLESS})
        assert written == [], f"written outside the temp dir: {written}"


@pytest.mark.allow_subprocess
def test_in_process_no_device_path_is_opened(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same promise seen from inside: every open and every program run
    while planning, through Python's audit hooks."""
    seen: list[str] = []
    active = [True]

    def hook(event: str, args: tuple[object, ...]) -> None:
        if not active[0]:
            return
        if event == "open" and isinstance(args[0], str):
            seen.append(args[0])
        elif event == "subprocess.Popen":
            seen.extend(str(a) for a in args[1] or [])  # type: ignore[union-attr]

    sys.addaudithook(hook)
    try:
        assert main([str(DEMO)]) == 0
    finally:
        active[0] = False
    capsys.readouterr()
    devices = [p for p in seen if p.startswith(("/dev/", "/sys/", "/proc/")) and p not in HARMLESS]
    assert devices == []
    assert any(p.endswith("blkid") for p in seen) is False  # blank disks: nothing to probe at all
