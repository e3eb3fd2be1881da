"""Unit tests run no programs and open no sockets unless they say so
(`@pytest.mark.allow_subprocess`, `@pytest.mark.allow_socket`): a unit test
that reached the machine would depend on it, and could change it."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    if request.node.get_closest_marker("allow_subprocess") is None:
        def no_subprocess(self: object, *args: Any, **kwargs: Any) -> None:
            raise AssertionError(
                f"unit test ran a real program {args[:1]!r}: use a fake Runner or mark allow_subprocess"
            )

        monkeypatch.setattr(subprocess.Popen, "__init__", no_subprocess)
        monkeypatch.setattr(os, "posix_spawn", no_subprocess)
        monkeypatch.setattr(os, "fork", no_subprocess)
    if request.node.get_closest_marker("allow_socket") is None:
        def no_socket(self: object, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("unit test opened a real socket: mark it allow_socket")

        monkeypatch.setattr(socket.socket, "__init__", no_socket)
    # Never log to the build machine's journal, never read its config dirs.
    sandbox = tmp_path_factory.mktemp("env")
    monkeypatch.setenv("IGNITION_JOURNAL_SOCKET", str(sandbox / "no-journal"))
    for var in ("IGNITION_SYSTEM_CONFIG_DIR", "IGNITION_SYSTEM_LOCAL_CONFIG_DIR",
                "IGNITION_SYSTEM_RUNTIME_CONFIG_DIR"):
        monkeypatch.setenv(var, str(sandbox / var.lower()))
    monkeypatch.setenv("IGNITION_KERNEL_CMDLINE_PATH", str(sandbox / "cmdline"))
    monkeypatch.setenv("IGNITION_QEMU_FW_CFG_DIR", str(sandbox / "fw_cfg"))
    # A machine without systemd-udevd, whatever runs on the build machine
    # (the root tests start one): the disks stage's udev waits stay out.
    from ignition.stages.disks import udev

    monkeypatch.setattr(udev, "UDEV_CONTROL", str(sandbox / "no-udev-control"))
    yield
