"""What a failed program said, in the one error line an operator reads."""

from __future__ import annotations

from ignition.errors import CommandError, tool_message

MKFS_XFS = b"""Filesystem must be larger than 300MB.
Usage: mkfs.xfs
/* blocksize */\t\t[-b size=num]
/* config file */\t[-c options=xxx]
/* metadata */\t\t[-m crc=0|1,finobt=0|1,uuid=xxx,rmapbt=0|1,reflink=0|1,
"""


def test_usage_text_after_the_reason_is_left_out() -> None:
    e = CommandError(["mkfs.xfs", "-f", "/dev/vda2"], 1, b"", MKFS_XFS)
    assert str(e) == "mkfs.xfs exited with status 1: Filesystem must be larger than 300MB."


def test_long_output_is_cut_to_a_few_lines() -> None:
    text = "\n".join(f"line {i}" for i in range(10))
    assert tool_message(text) == "line 0\nline 1\nline 2\nline 3\n..."


def test_a_message_that_is_only_usage_is_kept_and_stdout_serves_when_stderr_is_empty() -> None:
    assert tool_message("usage: tool [-x]") == "usage: tool [-x]"
    assert str(CommandError(["sfdisk"], 1, b"no such device\n", b"")) == "sfdisk exited with status 1: no such device"
    assert str(CommandError(["mdadm"], -9)) == "mdadm was killed by signal 9"
