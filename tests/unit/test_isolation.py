"""The unit-test guard itself: programs and sockets are refused unless asked for."""

from __future__ import annotations

import socket
import subprocess

import pytest


def test_a_real_program_is_refused() -> None:
    with pytest.raises(AssertionError, match="ran a real program"):
        subprocess.run(["true"], check=False)


def test_a_real_socket_is_refused() -> None:
    with pytest.raises(AssertionError, match="opened a real socket"):
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)


@pytest.mark.allow_subprocess
def test_opting_in_allows_programs() -> None:
    assert subprocess.run(["true"], check=False).returncode == 0
