"""The dracut module's choices (dracut/30ignition): what module-setup.sh and
ignition-pyfiles.py leave out of the initramfs, and proof that no stage
needs it. (The QEMU tests then boot the image itself: vm-tests/test_boot.py's
selfcheck loads libudev, libparted and OpenSSL in it.)"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from ignition import distro

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
    # dosfstools' other name of mkfs.fat; ldconfig: pyudev's library lookup.
    assert installed_programs() - set(distro.DEFAULTS) == {"basename", "mkfs.vfat", "ldconfig"}


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
