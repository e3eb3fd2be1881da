"""Fixtures of the QEMU vm-tests; the harness itself is vmharness.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import journey
import pytest
from vmharness import CACHE, REPO, TEST_MODULE, VM, Image, choose_accel, metrics, require_tools


@pytest.fixture(scope="session")
def vm_image() -> Image:
    require_tools()
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "vm-build.sh"), str(TEST_MODULE)],
        capture_output=True, text=True, env={**os.environ, "VM_CACHE": str(CACHE)}, check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"building the initramfs failed:\n{proc.stderr[-4000:]}", pytrace=False)
    kv = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    image = Image(Path(kv["KERNEL"]), Path(kv["INITRD"]), kv["KVER"],
                  float(kv["BUILD_SECONDS"]), int(kv["INITRD_BYTES"]))
    metrics["image"] = image
    return image


@pytest.fixture(scope="session")
def vm_accel(vm_image: Image) -> str:
    accel = choose_accel(vm_image)
    metrics["accel"] = accel
    return accel


@pytest.fixture(scope="session")
def journey_build() -> journey.Journey:
    """Our initramfs without the vm-tests module and the Debian OS image,
    built once per session (the OS image is cached across sessions by recipe)."""
    require_tools()
    try:
        journey.require_tools()
        built = journey.build()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    metrics["journey"] = built
    return built


@pytest.fixture
def vm(vm_image: Image, vm_accel: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[VM]:
    logdir = CACHE / "logs" / re.sub(r"[^A-Za-z0-9_.=-]+", "_", request.node.name)
    shutil.rmtree(logdir, ignore_errors=True)
    yield VM(vm_image, tmp_path, logdir, vm_accel)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    image = metrics.get("image")
    if image is None and metrics.get("journey") is None:
        return
    tr = terminalreporter
    tr.section("vm-tests")
    if image is not None:
        tr.write_line(f"kernel {image.kver}; initramfs {image.initrd_bytes / 1e6:.1f} MB (zstd), "
                      f"built in {image.build_seconds:.1f}s; accelerator {metrics.get('accel', '?')}")
    if "python" in metrics:
        py = metrics["python"]
        tr.write_line(f"embedded Python (guest): interpreter start {py['interpreter_start_seconds']}s, "
                      f"import of ignition.engine {py['import_engine_seconds']}s")
    built = metrics.get("journey")
    if built is not None:
        took = f"built in {built.os_build_seconds:.0f}s" if built.os_build_seconds else "cached"
        tr.write_line(f"journey: OS image {built.os_image.name} ({took}); initramfs without the vm-tests module "
                      f"built in {built.image.build_seconds:.1f}s")
    for b in metrics["boots"]:
        unit, first, done = (b["fetch_offline_unit_started"], b["fetch_offline_started"],
                             b["fetch_offline_finished"])
        extra = ""
        if unit is not None and first is not None:
            extra += f", fetch-offline unit started at {unit:.1f}s, first log line at {first:.1f}s"
        if done is not None:
            extra += f", finished at {done:.1f}s (guest clock)"
        tr.write_line(f"boot {b['name']}: {b['seconds']}s wall, verdict {b['verdict']}{extra}")
