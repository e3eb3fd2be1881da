"""Suite-wide rules: root and VM tests are never skipped in CI.

Outside CI a root test run by a non-root user is skipped with the reason; in
CI (`CI=true`, as root) a root or VM test that cannot run is a failure, so a
green build always means they ran.
"""

from __future__ import annotations

import os

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("root") and os.geteuid() != 0:
        if _in_ci():
            pytest.fail("root test in CI without root: .ci/run must run as root")
        pytest.skip("needs root (loop devices, system tools); CI runs it as root")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if _in_ci() and report.skipped and (item.get_closest_marker("root") or item.get_closest_marker("vm")):
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid}: root/VM tests must not be skipped in CI ({report.longrepr})"
    return report
