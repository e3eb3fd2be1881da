"""ignition-plan reuses an existing LUKS volume inside an image as the boot
does: its header is read from the image file by cryptsetup (no root, no
device), the label/UUID/type decision is the disks stage's own, and the plan
says that what the volume holds is not known without its key."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ignition.planner import session
from ignition.planner.cli import main
from tests.unit.planimages import MIB, image, sh

pytestmark = pytest.mark.allow_subprocess

KEY = "secretkey"


class _Quiet:
    def emit(self, priority: int, message: str, fields: object) -> None:
        return None


def luks_image(tmp_path: Path, luks_type: str = "luks2") -> tuple[Path, str]:
    """64 MiB: partition 1 'root' (empty), partition 2 'secret' (40 MiB) holding a LUKS volume
    labelled 'vault' (luksFormat on a plain file, copied into the partition); and its UUID."""
    img = image(tmp_path / "disk.img", 64, [(1, 16, "root"), (17, 40, "secret")])
    vol = tmp_path / "vol.img"
    with open(vol, "wb") as f:
        f.truncate(40 * MIB)
    key = tmp_path / "key"
    key.write_text(KEY)
    label = ["--label", "vault"] if luks_type == "luks2" else []
    sh("cryptsetup", "luksFormat", "--batch-mode", "--type", luks_type, "--pbkdf", "pbkdf2",
       "--pbkdf-force-iterations", "1000", *label, "--key-file", str(key), str(vol))
    sh("dd", f"if={vol}", f"of={img}", "bs=1M", "seek=17", "conv=notrunc,sparse", "status=none")
    return img, sh("cryptsetup", "luksUUID", str(vol)).strip()


def config(**luks: Any) -> dict[str, Any]:
    entry = {"name": "vault", "device": "/dev/disk/by-partlabel/secret", "label": "vault",
             "keyFile": {"source": f"data:,{KEY}"}, **luks}
    return {"ignition": {"version": "3.4.0"},
            "storage": {"luks": [entry],
                        "filesystems": [{"device": "/dev/mapper/vault", "format": "ext4", "path": "/var/vault"}]}}


def write(tmp_path: Path, cfg: dict[str, Any]) -> str:
    path = tmp_path / "c.ign"
    path.write_text(json.dumps(cfg))
    return str(path)


def test_a_matching_volume_is_reused_and_crypttab_names_its_real_uuid(tmp_path: Path) -> None:
    img, uuid = luks_image(tmp_path)
    opts = session.Options([("/dev/vda", str(img))])
    out = session.plan(json.dumps(config(uuid=uuid)).encode(), opts, _Quiet())
    assert out.error is None
    assert [(m.path, m.reused) for m in out.machine.made] == [("/dev/mapper/vault", True)]
    # The files stage appends the volume's own UUID, read from the header in the image.
    appended = [e for e in out.plan.entries if e.action == "append" and e.target == "/etc/crypttab"]
    line = f"vault UUID={uuid} /etc/luks/vault luks,x-initrd.attach\n"
    assert [dict(e.details)["sha256"] for e in appended] == [hashlib.sha256(line.encode()).hexdigest()]


def test_the_plan_says_what_it_cannot_know(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img, _ = luks_image(tmp_path)
    rc = main(["--json", write(tmp_path, config()), "--disk", f"/dev/vda={img}"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert [(v["path"], v["action"], v["found"][0]["type"]) for v in doc["luks"]] == [
        ("/dev/mapper/vault", "reuse", "crypto_LUKS")]
    assert doc["destroys"] == [] and doc["summary"]["destructive"] is False
    fs = doc["filesystems"][0]
    assert "cannot be read without its key" in fs["warning"] and "reused instead" in fs["warning"]
    assert [(t["path"], t["contents"]) for t in doc["trees"]][1] == ("/var/vault", "unknown")


def test_wiping_the_filesystem_inside_is_destructive_of_what_is_not_known(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img, _ = luks_image(tmp_path)
    cfg = config()
    cfg["storage"]["filesystems"][0]["wipeFilesystem"] = True
    rc = main(["--json", write(tmp_path, cfg), "--disk", f"/dev/vda={img}"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["summary"]["destructive"] is True
    assert doc["destroys"] == ["/dev/mapper/vault (/dev/mapper/vault): reformats as ext4, destroying not known "
                               "(inside an existing LUKS volume)"]


@pytest.mark.parametrize(("change", "error"), [
    ({"label": "other"}, "does not match (label 'vault', wanted 'other') and wipeVolume is false"),
    ({"uuid": "11111111-2222-3333-4444-555555555555"},
     "does not match (UUID differs from 11111111-2222-3333-4444-555555555555)"),
])
def test_a_volume_that_does_not_match_fails_the_plan_as_it_fails_the_boot(
        change: dict[str, Any], error: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img, _ = luks_image(tmp_path)
    rc = main([write(tmp_path, config(**change)), "--disk", f"/dev/vda={img}"])
    err = capsys.readouterr().err
    assert rc == 1 and error in err and "/dev/disk/by-partlabel/secret is an existing LUKS2 volume" in err


def test_a_luks1_volume_is_refused_without_wipe_and_formatted_with_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img, _ = luks_image(tmp_path, "luks1")
    rc = main([write(tmp_path, config(label=None)), "--disk", f"/dev/vda={img}"])
    assert rc == 1 and "is a LUKS1 volume; only LUKS2 is supported" in capsys.readouterr().err
    rc = main(["--json", write(tmp_path, config(wipeVolume=True)), "--disk", f"/dev/vda={img}"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["luks"][0]["action"] == "create"
    assert doc["destroys"] == ["/dev/mapper/vault: LUKS over /dev/vda2 destroys crypto_LUKS"]
