"""Commands are logged and planned with secret option values masked (issue 13:
the password hash reached the journal in the DEBUG line of useradd)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ignition.log import Logger
from ignition.plan import Plan
from ignition.run import RecordingRunner, Runner, shown_argv
from tests.unit.logsink import ListSink

HASH = "$6$rounds=4096$salt$0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.mark.allow_subprocess
def test_runner_never_logs_the_password_hash(tmp_path: Path) -> None:
    useradd = tmp_path / "useradd"  # a stand-in that only records its argv
    useradd.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$0.argv"\n')
    useradd.chmod(0o755)
    sink = ListSink()
    Runner(Logger(sink, "files", "file")).run([str(useradd), "--password", HASH, "-p", HASH,
                                               f"--password={HASH}", "core"])
    # The program got the hash; the log has the command, masked.
    assert (tmp_path / "useradd.argv").read_text().splitlines() == [
        "--password", HASH, "-p", HASH, f"--password={HASH}", "core"]
    assert any("executing:" in m and "core" in m for _, m, _ in sink.entries)
    assert HASH not in sink.text
    assert "salt" not in sink.text


def test_plan_of_a_dry_run_masks_the_hash() -> None:
    plan = Plan()
    RecordingRunner(Logger(ListSink(), "files", "file"), plan).run(["groupadd", "--password", HASH, "wheel"])
    assert [(p.action, p.target) for p in plan.entries] == [("run", "groupadd --password '***' wheel")]


def test_short_p_is_masked_only_for_shadow_utils() -> None:
    assert shown_argv(["mkdir", "-p", "/a"]) == "mkdir -p /a"
    assert shown_argv(["/usr/sbin/usermod", "-p", HASH, "u"]) == "/usr/sbin/usermod -p '***' u"
    assert shown_argv(["chpasswd", "--password"]) == "chpasswd --password"  # no value to mask


def test_a_nul_byte_in_an_argument_is_a_command_error_not_an_internal_error() -> None:
    from ignition.errors import CommandError

    with pytest.raises(CommandError, match="an argument contains a NUL byte"):
        Runner(Logger(ListSink(), "files", "file")).run(["useradd", "--home-dir", "/home/a\0b", "a"])
