"""RAID and LUKS in the disks stage, and the crypttab the files stage writes,
with a fake runner that records every argv: no root, no md, no device-mapper.
What the real kernel does with these calls is shown in vm-tests/test_storage.py."""

from __future__ import annotations

import base64
import errno
import json
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ignition.config.parse import parse
from ignition.context import Paths, StageContext
from ignition.environment import Environment
from ignition.errors import CommandError, StageError
from ignition.log import Logger
from ignition.plan import Plan
from ignition.resources.fetcher import Fetcher
from ignition.run import RecordingRunner, Result, Runner
from ignition.stages.disks import aliases as aliases_mod
from ignition.stages.disks import luks as luks_mod
from ignition.stages.disks import raid as raid_mod
from ignition.stages.disks.stage import run_disks
from ignition.stages.files.crypttab import apply_crypttab
from ignition.state import State
from ignition.sysroot import Sysroot
from ignition.sysroot_dryrun import DryRunSysroot
from tests.unit.logsink import ListSink

U = "8a7c8e59-d0a2-4ac2-9b4f-1d3f6f0e2c11"
KEY = b"correct horse battery staple"
KEY_URL = "data:;base64," + base64.b64encode(KEY).decode()


Answer = Callable[[list[str]], Result | None]


class FakeRunner(Runner):
    """Records argv; answers probes from `answers` (first match wins), keeps a
    copy of every key file a command was given (its bytes and mode)."""

    def __init__(self, logger: Logger, answers: Sequence[Answer] = ()) -> None:
        super().__init__(logger)
        self.calls: list[list[str]] = []
        self.answers = list(answers)
        self.keys: list[tuple[bytes, int]] = []

    def run(self, argv: Sequence[str], **kwargs: Any) -> Result:
        args = list(argv)
        self.calls.append(args)
        for flag in ("--key-file", "-k"):
            if flag in args:
                path = args[args.index(flag) + 1]
                self.keys.append((Path(path).read_bytes(), stat.S_IMODE(os.stat(path).st_mode)))
        for answer in self.answers:
            res = answer(args)
            if res is not None:
                if kwargs.get("check", True) and res.returncode != 0:
                    raise CommandError(args, res.returncode, res.stdout, res.stderr)
                return res
        if args[:3] == ["blkid", "-p", "-o"]:
            return Result(tuple(args), 2, b"", b"")  # nothing on the device
        return Result(tuple(args), 0, b"", b"")


def blkid_says(device: str, text: str) -> Answer:
    def answer(argv: list[str]) -> Result | None:
        if argv[:1] == ["blkid"] and (argv[-1] == device or argv[-1].endswith("/dev_aliases" + device)):
            return Result(tuple(argv), 0, text.encode(), b"")
        return None
    return answer


def replies(prefix: list[str], rc: int = 0, out: str = "") -> Answer:
    def answer(argv: list[str]) -> Result | None:
        return Result(tuple(argv), rc, out.encode(), b"") if argv[:len(prefix)] == prefix else None
    return answer


@dataclass
class Env:
    ctx: StageContext
    runner: Runner
    sink: ListSink
    root: Path
    run_dir: Path

    @property
    def calls(self) -> list[list[str]]:
        """argv as run, with `@/dev/x` standing for the stage's alias of /dev/x."""
        assert isinstance(self.runner, FakeRunner)
        prefix = str(self.run_dir / "dev_aliases")
        return [["@" + a[len(prefix):] if a.startswith(prefix + "/") else a for a in c] for c in self.runner.calls]

    def without_probes(self) -> list[list[str]]:
        return [c for c in self.calls if c[0] not in ("blkid", "udevadm")]


@pytest.fixture(autouse=True)
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel with md and device-mapper, and devices that are there at once."""
    (tmp_path / "mdstat").write_text("Personalities :\n")
    (tmp_path / "device-mapper").write_text("")
    (tmp_path / "dm_crypt").mkdir()
    monkeypatch.setattr(raid_mod, "MDSTAT", str(tmp_path / "mdstat"))
    monkeypatch.setattr(luks_mod, "DM_REGISTERED", str(tmp_path / "device-mapper"))
    monkeypatch.setattr(luks_mod, "DM_CRYPT_LOADED", str(tmp_path / "dm_crypt"))
    monkeypatch.setattr(aliases_mod, "wait_for_node", lambda path, timeout=30.0: path)


def make_env(tmp_path: Path, storage: dict[str, Any], answers: Sequence[Answer] = (), *,
             dry: bool = False, version: str = "3.4.0", state: State | None = None) -> Env:
    config = parse(json.dumps({"ignition": {"version": version}, "storage": storage}).encode()).config
    sink = ListSink()
    logger = Logger(sink, "disks", "file")
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    run_dir = tmp_path / "run" / "ignition"
    plan = Plan() if dry else None
    runner: Runner = RecordingRunner(logger, plan) if plan is not None else FakeRunner(logger, answers)
    sysroot = DryRunSysroot(str(root), plan) if plan is not None else Sysroot(str(root))
    paths = Paths(config_cache=str(tmp_path / "run" / "ignition.json"), state_file=str(run_dir / "state"),
                  neednet=str(run_dir / "neednet"))
    ctx = StageContext(config, sysroot, runner, Fetcher(logger), state or State(), "file", logger,
                       Environment(), paths, dry, plan)
    return Env(ctx, runner, sink, root, run_dir)


# --- RAID -----------------------------------------------------------------

def test_raid1_is_created_as_ignition_does_then_its_filesystem(tmp_path: Path) -> None:
    e = make_env(tmp_path, {
        "raid": [{"name": "data", "level": "raid1", "devices": ["/dev/vdb", "/dev/vdc"]}],
        "filesystems": [{"device": "/dev/md/data", "format": "ext4", "wipeFilesystem": True}],
    })
    run_disks(e.ctx)
    assert e.without_probes() == [
        ["mdadm", "--create", "/dev/md/data", "--force", "--run", "--homehost", "any", "--level", "raid1",
         "--raid-devices", "2", "@/dev/vdb", "@/dev/vdc"],
        ["wipefs", "-a", "@/dev/md/data"],
        ["mkfs.ext4", "-F", "@/dev/md/data"],
    ]


def test_raid_spares_options_and_absolute_name(tmp_path: Path) -> None:
    e = make_env(tmp_path, {"raid": [{"name": "/dev/md127", "level": "raid5", "spares": 1,
                                      "options": ["--metadata=1.2", "--chunk=64"],
                                      "devices": ["/dev/vdb", "/dev/vdc", "/dev/vdd", "/dev/vde"]}]})
    run_disks(e.ctx)
    assert e.without_probes() == [
        ["mdadm", "--create", "/dev/md127", "--force", "--run", "--homehost", "any", "--level", "raid5",
         "--raid-devices", "3", "--spare-devices", "1", "--metadata=1.2", "--chunk=64",
         "@/dev/vdb", "@/dev/vdc", "@/dev/vdd", "@/dev/vde"],
    ]


def test_raid_without_md_in_the_kernel_fails_before_any_write(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(raid_mod, "MDSTAT", str(tmp_path / "no-mdstat"))
    e = make_env(tmp_path, {"raid": [{"name": "data", "level": "raid1", "devices": ["/dev/vdb", "/dev/vdc"]}],
                            "filesystems": [{"device": "/dev/md/data", "format": "ext4"}]})
    with pytest.raises(StageError, match=r"md driver.*no disk was touched"):
        run_disks(e.ctx)
    assert e.calls == [["modprobe", "md_mod"]]


def test_raid_that_does_not_appear_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def wait(path: str, timeout: float = 30.0) -> str:
        if path.startswith("/dev/md/"):
            raise StageError(f"timed out after {timeout:g}s waiting for {path} to appear")
        return path
    monkeypatch.setattr(aliases_mod, "wait_for_node", wait)
    e = make_env(tmp_path, {"raid": [{"name": "data", "level": "raid1", "devices": ["/dev/vdb", "/dev/vdc"]}]})
    with pytest.raises(StageError, match="/dev/md/data"):
        run_disks(e.ctx)


def test_mdadm_failure_names_the_array(tmp_path: Path) -> None:
    e = make_env(tmp_path, {"raid": [{"name": "data", "level": "raid1", "devices": ["/dev/vdb", "/dev/vdc"]}]},
                 [replies(["mdadm"], 1, "mdadm: cannot open /dev/vdb: Device or resource busy")])
    with pytest.raises(StageError, match="creating RAID array data"):
        run_disks(e.ctx)


# --- LUKS -----------------------------------------------------------------

def luks_state_key(e: Env, name: str) -> bytes:
    url = e.ctx.state.luks_persist_key_files[name]
    assert url.startswith("data:;base64,")
    return base64.b64decode(url.split(",", 1)[1])


def test_luks_with_generated_key(tmp_path: Path) -> None:
    e = make_env(tmp_path, {"luks": [{"name": "data", "device": "/dev/vdb", "label": "secret", "uuid": U,
                                      "options": ["--cipher", "aes-xts-plain64"], "discard": True,
                                      "openOptions": ["--perf-no_read_workqueue"]}],
                            "filesystems": [{"device": "/dev/mapper/data", "format": "ext4",
                                             "wipeFilesystem": True}]})
    run_disks(e.ctx)
    calls = e.without_probes()
    kf = calls[0][calls[0].index("--key-file") + 1]
    assert os.path.dirname(kf) == str(e.run_dir)
    assert calls == [
        ["cryptsetup", "luksFormat", "--type", "luks2", "--key-file", kf, "--label", "secret", "--uuid", U,
         "--cipher", "aes-xts-plain64", "@/dev/vdb"],
        ["cryptsetup", "luksOpen", "@/dev/vdb", "data", "--key-file", kf, "--persistent", "--allow-discards",
         "--perf-no_read_workqueue"],
        ["wipefs", "-a", "@/dev/mapper/data"],
        ["mkfs.ext4", "-F", "@/dev/mapper/data"],
    ]
    assert not os.path.exists(kf)  # removed afterwards
    key = luks_state_key(e, "data")
    assert len(key) == 8192 and bytes.fromhex(key.decode())  # 4096 random bytes, hex
    assert isinstance(e.runner, FakeRunner)
    assert e.runner.keys == [(key, 0o400), (key, 0o400)]  # what cryptsetup read, 0400
    assert key.decode() not in e.sink.text and e.ctx.state.luks_persist_key_files["data"] not in e.sink.text


def test_luks_on_an_empty_device_probes_then_formats(tmp_path: Path) -> None:
    e = make_env(tmp_path, {"luks": [{"name": "data", "device": "/dev/vdb"}]})
    run_disks(e.ctx)
    assert [c[:2] for c in e.calls if c[0] != "udevadm"] == [
        ["blkid", "-p"], ["cryptsetup", "luksFormat"], ["cryptsetup", "luksOpen"]]


def test_luks_with_key_file_and_wipe(tmp_path: Path) -> None:
    e = make_env(tmp_path, {"luks": [{"name": "c", "device": "/dev/vdb", "wipeVolume": True,
                                      "keyFile": {"source": KEY_URL}}]})
    run_disks(e.ctx)
    kf = e.calls[1][e.calls[1].index("--key-file") + 1]
    assert e.without_probes() == [
        ["wipefs", "-a", "@/dev/vdb"],
        ["cryptsetup", "luksFormat", "--type", "luks2", "--key-file", kf, "@/dev/vdb"],
        ["cryptsetup", "luksOpen", "@/dev/vdb", "c", "--key-file", kf, "--persistent"],
    ]
    assert luks_state_key(e, "c") == KEY
    assert KEY.decode() not in e.sink.text


def test_existing_matching_luks2_is_reused(tmp_path: Path) -> None:
    e = make_env(tmp_path, {"luks": [{"name": "c", "device": "/dev/vdb", "label": "L", "uuid": U,
                                      "keyFile": {"source": KEY_URL}}]},
                 [blkid_says("/dev/vdb", f"TYPE=crypto_LUKS\nLABEL=L\nUUID={U}\n"),
                  replies(["cryptsetup", "luksUUID"], 0, U + "\n"),
                  replies(["cryptsetup", "luksDump"], 0, "Version: 2\nFlags:  (no flags)\n")])
    run_disks(e.ctx)
    formats = [c for c in e.calls if c[:2] in (["cryptsetup", "luksFormat"], ["wipefs", "-a"])]
    assert formats == []
    assert ["cryptsetup", "luksOpen", "--test-passphrase"] in [c[:3] for c in e.calls]
    assert [c[:4] for c in e.calls if c[1:2] == ["luksOpen"] and "--persistent" in c] == [
        ["cryptsetup", "luksOpen", "@/dev/vdb", "c"]]
    assert "already matches; reusing it" in e.sink.text


@pytest.mark.parametrize("luks,blkid,why", [
    ({}, "TYPE=ext4\n", "volume is not of the correct type"),
    ({"keyFile": {"source": KEY_URL}}, "TYPE=crypto_LUKS\n", "LUKS1"),
    ({}, "TYPE=crypto_LUKS\n", "no keyFile"),
    ({"keyFile": {"source": KEY_URL}, "label": "want"}, "TYPE=crypto_LUKS\nLABEL=other\n", "label 'other'"),
])
def test_existing_volume_without_wipe_fails_before_any_write(tmp_path: Path, luks: dict[str, Any], blkid: str,
                                                             why: str) -> None:
    dev = tmp_path / "vdb"
    dev.write_bytes(b"")  # exists now, so it is checked before anything is written
    answers = [blkid_says(str(dev), blkid),
               replies(["cryptsetup", "isLuks"], 1 if why == "LUKS1" else 0)]
    e = make_env(tmp_path, {
        "disks": [],
        "luks": [{"name": "c", "device": str(dev), **luks}],
        "raid": [{"name": "r", "level": "raid1", "devices": ["/dev/vdx", "/dev/vdy"]}],
    }, answers)
    with pytest.raises(StageError, match=why):
        run_disks(e.ctx)
    assert [c for c in e.calls if c[0] in ("mdadm", "wipefs") or c[1:2] == ["luksFormat"]] == []


def test_clevis_without_the_tools_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    e = make_env(tmp_path, {"luks": [{"name": "c", "device": "/dev/vdb", "clevis": {"tpm2": True}}]})
    with pytest.raises(StageError, match="clevis bindings need the clevis tools in the initramfs"):
        run_disks(e.ctx)
    assert e.calls == []


def clevis_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `clevis` the stage finds on PATH (the fake runner answers its calls)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "clevis").write_text("#!/bin/sh\n")
    (bindir / "clevis").chmod(0o755)
    monkeypatch.setenv("PATH", str(bindir))


def test_clevis_tang_and_tpm2_bind_with_sss_and_drop_the_generated_key(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    clevis_on_path(tmp_path, monkeypatch)
    e = make_env(tmp_path, {"luks": [{"name": "c", "device": "/dev/vdb", "clevis": {
        "tpm2": True, "threshold": 2,
        "tang": [{"url": "http://127.0.0.1:8/", "thumbprint": "abc", "advertisement": '{"payload":"x"}'}]}}]})
    run_disks(e.ctx)
    calls = e.without_probes()
    kf = calls[0][calls[0].index("--key-file") + 1]
    assert calls == [
        ["cryptsetup", "luksFormat", "--type", "luks2", "--key-file", kf, "@/dev/vdb"],
        ["clevis", "luks", "bind", "-f", "-k", kf, "-d", "@/dev/vdb", "sss",
         '{"t":2,"pins":{"tang":[{"url":"http://127.0.0.1:8/","thp":"abc","adv":{"payload":"x"}}],"tpm2":{}}}'],
        ["cryptsetup", "luksOpen", "@/dev/vdb", "c", "--key-file", kf, "--persistent"],
        ["cryptsetup", "luksRemoveKey", "@/dev/vdb", kf],
    ]
    assert e.ctx.state.luks_persist_key_files == {}  # clevis: nothing persisted


def test_clevis_binding_is_proved_when_it_can_unlock_offline(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    clevis_on_path(tmp_path, monkeypatch)
    e = make_env(tmp_path, {"luks": [{"name": "c", "device": "/dev/vdb", "keyFile": {"source": KEY_URL},
                                      "clevis": {"tpm2": True}}]})
    run_disks(e.ctx)
    assert [c[:3] for c in e.without_probes()] == [
        ["cryptsetup", "luksFormat", "--type"], ["clevis", "luks", "bind"], ["cryptsetup", "luksOpen", "@/dev/vdb"],
        ["cryptsetup", "luksClose", "c"], ["clevis", "luks", "unlock"]]
    assert e.ctx.state.luks_persist_key_files == {}


def test_cex_is_refused(tmp_path: Path) -> None:
    e = make_env(tmp_path, {"luks": [{"name": "c", "device": "/dev/vdb", "cex": {"enabled": True}}]},
                 version="3.5.0")
    with pytest.raises(StageError, match=r"not available in this build \(needs IBM Crypto Express and zkey\)"):
        run_disks(e.ctx)
    assert e.calls == []


def test_luks_without_device_mapper_fails_before_any_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(luks_mod, "DM_REGISTERED", str(tmp_path / "none"))
    monkeypatch.setattr(luks_mod, "DM_CRYPT_LOADED", str(tmp_path / "none"))
    e = make_env(tmp_path, {"luks": [{"name": "c", "device": "/dev/vdb"}]})
    with pytest.raises(StageError, match="device-mapper"):
        run_disks(e.ctx)
    assert e.calls == [["modprobe", "dm_crypt"]]


def test_order_partitions_raid_luks_filesystems(tmp_path: Path) -> None:
    e = make_env(tmp_path, {
        "raid": [{"name": "md", "level": "raid1", "devices": ["/dev/vdb", "/dev/vdc"]}],
        "luks": [{"name": "c", "device": "/dev/md/md", "wipeVolume": True}],
        "filesystems": [{"device": "/dev/mapper/c", "format": "xfs", "wipeFilesystem": True}],
    })
    run_disks(e.ctx)
    assert [c[0] + " " + c[1] for c in e.without_probes()] == [
        "mdadm --create", "wipefs -a", "cryptsetup luksFormat", "cryptsetup luksOpen", "wipefs -a", "mkfs.xfs -f"]


def test_dry_run_records_commands_writes_nothing_and_shows_no_key(tmp_path: Path) -> None:
    e = make_env(tmp_path, {
        "raid": [{"name": "md", "level": "raid1", "devices": ["/dev/vdb", "/dev/vdc"]}],
        "luks": [{"name": "c", "device": "/dev/md/md", "keyFile": {"source": KEY_URL}},
                 {"name": "g", "device": "/dev/vdd", "wipeVolume": True}],
    }, dry=True)
    run_disks(e.ctx)
    assert e.ctx.plan is not None
    text = "\n".join(x.human() for x in e.ctx.plan.entries)
    assert "would run mdadm --create /dev/md/md" in text
    assert "would run cryptsetup luksFormat --type luks2 --key-file " + str(e.run_dir / "luks-c.key") in text
    assert "would run cryptsetup luksOpen /dev/vdd g --key-file" in text
    assert "would run wipefs -a /dev/vdd" in text
    assert KEY.decode() not in text and KEY_URL not in text
    assert not e.run_dir.exists() and e.ctx.state.luks_persist_key_files == {}


# --- crypttab (files stage) --------------------------------------------------

def test_crypttab_and_key_files_are_written_and_the_key_leaves_the_state(tmp_path: Path) -> None:
    state = State(luks_persist_key_files={"data": KEY_URL})
    e = make_env(tmp_path, {"luks": [
        {"name": "data", "device": "/dev/vdb"},
        {"name": "t", "device": "/dev/vdc", "uuid": U, "clevis": {"tang": [{"url": "http://t/", "thumbprint": "x"}]}},
        {"name": "p", "device": "/dev/vdd", "uuid": U, "clevis": {"custom": {"pin": "sss", "config": "{}",
                                                                           "needsNetwork": False}}},
    ]}, [replies(["cryptsetup", "luksUUID", "/dev/vdb"], 0, "11111111-2222-3333-4444-555555555555\n")],
        state=state)
    paths = apply_crypttab(e.ctx)
    assert (e.root / "etc/crypttab").read_text() == (
        "data UUID=11111111-2222-3333-4444-555555555555 /etc/luks/data luks,x-initrd.attach\n"
        f"t UUID={U} none luks,_netdev,x-initrd.attach\n"
        f"p UUID={U} none luks,x-initrd.attach\n")
    assert stat.S_IMODE((e.root / "etc/crypttab").stat().st_mode) == 0o600
    assert (e.root / "etc/luks/data").read_bytes() == KEY
    assert stat.S_IMODE((e.root / "etc/luks/data").stat().st_mode) == 0o600
    assert stat.S_IMODE((e.root / "etc/luks").stat().st_mode) == 0o700
    assert sorted(os.listdir(e.root / "etc/luks")) == ["data"]
    assert e.ctx.state.luks_persist_key_files == {}
    assert paths == ["/etc/luks/data", "/etc/crypttab"]
    assert KEY.decode() not in e.sink.text and KEY_URL not in e.sink.text
    assert e.calls == [["cryptsetup", "luksUUID", "/dev/vdb"]]


def test_crypttab_keeps_existing_lines(tmp_path: Path) -> None:
    e = make_env(tmp_path, {"luks": [{"name": "data", "device": "/dev/vdb", "uuid": U}]},
                 state=State(luks_persist_key_files={"data": KEY_URL}))
    (e.root / "etc").mkdir()
    (e.root / "etc/crypttab").write_text("old UUID=x none luks\n")
    apply_crypttab(e.ctx)
    assert (e.root / "etc/crypttab").read_text() == (
        f"old UUID=x none luks\ndata UUID={U} /etc/luks/data luks,x-initrd.attach\n")


def test_crypttab_on_a_full_etc_is_one_line_and_keeps_the_old_table(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The key file fits, the crypttab line does not: one StageError naming
    storage.luks.0 and the filesystem; the table keeps its old bytes."""
    e = make_env(tmp_path, {"luks": [{"name": "data", "device": "/dev/vdb", "uuid": U}]},
                 state=State(luks_persist_key_files={"data": KEY_URL}))
    (e.root / "etc").mkdir()
    (e.root / "etc/crypttab").write_text("old UUID=x none luks\n")
    real_write = os.write

    def write(fd: int, data: Any) -> int:
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")) == "crypttab":
            real_write(fd, bytes(data)[:4])  # part of the line lands, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(StageError, match=r"^storage\.luks\.0 \(data\): no space left on the filesystem mounted at "
                                         r".* while appending to /etc/crypttab \(4 bytes written, taken back\)"):
        apply_crypttab(e.ctx)
    assert (e.root / "etc/crypttab").read_text() == "old UUID=x none luks\n"


def test_crypttab_without_the_key_in_the_state_fails(tmp_path: Path) -> None:
    e = make_env(tmp_path, {"luks": [{"name": "data", "device": "/dev/vdb", "uuid": U}]})
    with pytest.raises(StageError, match="left no key"):
        apply_crypttab(e.ctx)
    assert not (e.root / "etc").exists()


def test_crypttab_dry_run_writes_nothing_and_shows_no_key(tmp_path: Path) -> None:
    e = make_env(tmp_path, {"luks": [{"name": "data", "device": "/dev/vdb", "uuid": U}]}, dry=True,
                 state=State(luks_persist_key_files={"data": KEY_URL}))
    apply_crypttab(e.ctx)
    assert e.ctx.plan is not None
    text = "\n".join(x.human() for x in e.ctx.plan.entries)
    assert "would write /etc/luks/data" in text and "would append /etc/crypttab" in text
    assert KEY_URL not in text and KEY.decode() not in text
    assert list(e.root.iterdir()) == []
    assert e.ctx.state.luks_persist_key_files == {"data": KEY_URL}
