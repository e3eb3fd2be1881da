"""The dracut module's choices (dracut/30ignition): what module-setup.sh and
ignition-pyfiles.py leave out of the initramfs, and proof that no stage
needs it. (The QEMU tests then boot the image itself: vm-tests/test_boot.py's
selfcheck loads libudev, libparted and OpenSSL in it.)"""

from __future__ import annotations

import ast
import ctypes.util
import os
from pathlib import Path

import pytest

from ignition import distro
from ignition.stages.disks import udev

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "dracut" / "30ignition"
SITE_DEST = "/usr/lib/ignition/site-packages"
# The interpreter module-setup.sh embeds by default.
PYTHON = os.path.realpath(os.environ.get("IGNITION_PYTHON", "/usr/bin/python3"))


def _setup_sh() -> str:
    return (MODULE / "module-setup.sh").read_text().replace("\\\n", " ")


def installed_programs() -> set[str]:
    """The programs module-setup.sh hands to inst_multiple."""
    names: set[str] = set()
    for line in _setup_sh().splitlines():
        words = line.split()
        if words[:1] == ["inst_multiple"]:
            names.update(w for w in words[1:] if not w.startswith("-"))
    return names


def test_the_module_installs_only_programs_a_stage_runs() -> None:
    # basename: every dracut image has it already (the baseline); mkfs.vfat:
    # dosfstools' other name of mkfs.fat.
    assert installed_programs() - set(distro.DEFAULTS) == {"basename", "mkfs.vfat"}


def test_sgdisk_is_not_installed_because_no_stage_runs_it() -> None:
    # Go's module installs sgdisk (and with it libstdc++, 0.8 MB packed); ours
    # writes tables with pyparted and sfdisk, only placing partitions as
    # sgdisk would. Not a program a stage can name, nor one any code runs.
    assert "sgdisk" not in installed_programs()
    with pytest.raises(KeyError):
        distro.tool("sgdisk")
    literals = []
    for path in (REPO / "ignition").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value.split(" ", 1)[0] in ("sgdisk", "/usr/sbin/sgdisk", "/sbin/sgdisk"):
                literals.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert literals == []


def test_ldconfig_is_not_installed() -> None:
    # 1 MB that only pyudev's library lookup used (import_pyudev, below).
    code = [line for line in _setup_sh().splitlines() if not line.lstrip().startswith("#")]
    assert [line for line in code if "ldconfig" in line] == []


def test_pyudev_opens_libudev_by_its_soname_where_ldconfig_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    # The initramfs: ctypes.util.find_library's `ldconfig -p`, gcc and ld are
    # all missing there, so it finds nothing.
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    pyudev = udev.import_pyudev()
    context = pyudev.Context()
    assert context._libudev._name == udev.LIBUDEV_SONAME
    assert context.sys_path == "/sys"  # a call into libudev
    from pyudev._ctypeslib import utils

    assert utils.find_library("c") is None  # only libudev gets a soname


def test_pyudev_keeps_the_lookups_answer_where_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"/opt/lib{name}.so.7")
    udev.import_pyudev()
    from pyudev._ctypeslib import utils

    assert utils.find_library("udev") == "/opt/libudev.so.7"
