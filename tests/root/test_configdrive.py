"""Config-drive providers against a real labelled filesystem on a loop
device, mounted and unmounted by the provider with the real mount(8).

Real config drives are ISO9660 or vfat; this build machine's kernel has
neither (docs/architecture.md), so the drive here is ext4 with the same label and files,
which exercises the same path: the label lookup under <dev>/disk/by-label
(a temp directory, so the machine's /dev is not touched), `mount -o ro -t
auto`, reading the file, `umount`, removing the mount point.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from ignition.context import ProviderContext
from ignition.environment import Environment
from ignition.log import Logger
from ignition.providers import Provider
from ignition.providers.ibmcloud import IbmCloudProvider
from ignition.providers.openstack import OpenStackProvider
from ignition.providers.proxmoxve import ProxmoxVEProvider
from ignition.resources.fetcher import Fetcher
from ignition.run import Runner

pytestmark = pytest.mark.root

CONFIG = b'{"ignition":{"version":"3.4.0"}}'


class ListSink:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        self.messages.append(message)


def sh(*argv: str) -> str:
    return subprocess.run(list(argv), capture_output=True, check=True).stdout.decode()


MakeDrive = Callable[[str, Mapping[str, bytes]], Path]


@pytest.fixture
def drive(tmp_path: Path) -> Iterator[MakeDrive]:
    """Makes an ext4 image labelled `label` holding `files`, attaches it to a
    loop device and links it as <tmp>/dev/disk/by-label/<label>; returns the
    dev dir. Detaches everything afterwards."""
    attached: list[str] = []

    def make(label: str, files: Mapping[str, bytes]) -> Path:
        src = tmp_path / f"src-{label}"
        for path, data in files.items():
            target = src / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        src.mkdir(exist_ok=True)
        image = tmp_path / f"{label}.img"
        with open(image, "wb") as f:
            f.truncate(8 << 20)
        sh("mkfs.ext4", "-q", "-F", "-L", label, "-d", str(src), str(image))
        dev = sh("losetup", "--find", "--show", str(image)).strip()
        attached.append(dev)
        by_label = tmp_path / "dev/disk/by-label"
        by_label.mkdir(parents=True, exist_ok=True)
        (by_label / label).symlink_to(dev)
        return tmp_path / "dev"

    yield make
    for dev in attached:
        subprocess.run(["losetup", "-d", dev], check=False)


def context(dev_dir: Path) -> tuple[ProviderContext, ListSink]:
    sink = ListSink()
    logger = Logger(sink, stage="fetch", platform="test")
    # The metadata service is never reached when a drive is there; point it at
    # a closed loopback port anyway so nothing could leave the machine.
    env = Environment(dev_dir=str(dev_dir), metadata_urls=(("openstack", "http://127.0.0.1:9"),))
    return ProviderContext("test", logger, Runner(logger), Fetcher(logger), env, 5.0), sink


def mount_dirs() -> list[str]:
    return sorted(str(p) for p in Path(tempfile.gettempdir()).glob("ignition-configdrive-*"))


def mounted_points() -> str:
    with open("/proc/self/mounts", encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize(
    ("provider", "label", "files"),
    [
        (OpenStackProvider(), "config-2", {"/openstack/latest/user_data": CONFIG}),
        (IbmCloudProvider(), "cidata", {"/user-data": CONFIG, "/meta-data": b"instance-id: x\n"}),
        (ProxmoxVEProvider(), "cidata", {"/user-data": b"#cloud-config\n", "/vendor-data": CONFIG}),
    ],
    ids=["openstack", "ibmcloud", "proxmoxve"],
)
def test_reads_config_from_real_drive(drive: MakeDrive, provider: Provider, label: str,
                                      files: Mapping[str, bytes]) -> None:
    dev_dir = drive(label, files)
    ctx, sink = context(dev_dir)
    before = mounted_points(), mount_dirs()
    assert provider.fetch_config(ctx) == CONFIG
    assert (mounted_points(), mount_dirs()) == before  # unmounted, mount point removed
    assert any(f"found config drive {label}" in m for m in sink.messages)


def test_drive_without_the_file_is_no_config(drive: MakeDrive) -> None:
    dev_dir = drive("config-2", {"/openstack/latest/meta_data.json": b"{}"})
    ctx, _ = context(dev_dir)
    assert OpenStackProvider().fetch_config(ctx) is None


def test_kernel_command_line_config_device(drive: MakeDrive, tmp_path: Path) -> None:
    # ignition.config.device / ignition.config.path: the same read-only mount, for one file.
    from ignition.providers import cmdline

    dev_dir = drive("IGNCONFIG", {"/ignition/config.ign": CONFIG})
    ctx, sink = context(dev_dir)
    cmdline_file = tmp_path / "cmdline"
    cmdline_file.write_text("root=LABEL=root ignition.config.device=IGNCONFIG "
                            "ignition.config.path=ignition/config.ign\n")
    ctx = ProviderContext(ctx.platform, ctx.logger, ctx.run, ctx.fetcher,
                          Environment(dev_dir=str(dev_dir), cmdline_path=str(cmdline_file)), ctx.fetch_timeout)
    before = mounted_points(), mount_dirs()
    assert cmdline.fetch_config(ctx) == (CONFIG, "cmdline")
    assert (mounted_points(), mount_dirs()) == before
    assert any("from the filesystem labelled IGNCONFIG" in m for m in sink.messages)
