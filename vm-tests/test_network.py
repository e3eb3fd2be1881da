"""First boots that need the network: a cloud provider's metadata service and
remote file contents, served by the test on the host's loopback and reached
by the guest through QEMU's guestfwd (the user network is restricted: the
guest reaches nothing but these relays)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from vmharness import VM, Boot

pytestmark = pytest.mark.vm

# The guest-side address of the host's servers: inside QEMU's user network,
# relayed to 127.0.0.1 (a link-local metadata address is never used).
SERVER_ADDR = "10.0.2.100"
SERVER = f"http://{SERVER_ADDR}"
TOKEN = "vmtest-imds-token-3f9c"
PAYLOAD = b"payload from the host's loopback\n" * 64
NETWORK = ("ip=dhcp",)


@dataclass
class Served:
    """What the fake server answers (path -> body) and what it was asked."""
    routes: dict[str, bytes]
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    served: Served

    def _answer(self) -> None:
        with self.served.lock:
            self.served.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.command == "PUT" and self.path == "/latest/api/token":
            body: bytes | None = TOKEN.encode()
        elif self.path == "/2019-10-01/user-data" and self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            self.send_response(401)
            self.end_headers()
            return
        else:
            body = self.served.routes.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[Served, int]]:
    served = Served({})
    handler = type("Handler", (_Handler,), {"served": served})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def sha512(data: bytes) -> str:
    return "sha512-" + hashlib.sha512(data).hexdigest()


def stages_run(boot: Boot) -> list[str]:
    return re.findall(r"ignition\[\d+\]: [\w-]+: Stage: ([\w-]+)", boot.operator_console)


def test_aws_provider_fetches_the_config_from_the_metadata_service(vm: VM, server: tuple[Served, int]) -> None:
    served, port = server
    config = {
        "ignition": {"version": "3.4.0"},
        "storage": {"files": [
            {"path": "/etc/from-imds", "contents": {"source": "data:,configured%20by%20aws"}, "mode": 0o600},
            {"path": "/opt/payload", "contents": {"source": f"{SERVER}/payload",
                                                  "verification": {"hash": sha512(PAYLOAD)}}},
        ]},
    }
    served.routes["/2019-10-01/user-data"] = json.dumps(config).encode()
    served.routes["/payload"] = PAYLOAD
    boot = vm.boot(None, cmdline=("ignition.firstboot", "ignition.platform.id=aws", *NETWORK,
                                  f"vmtest.env.IGNITION_METADATA_URL_AWS={SERVER}"),
                   guestfwd=[(SERVER_ADDR, 80, port)], name="aws-imds")
    boot.assert_clean()
    assert boot.verdict == "complete", boot.explain()
    assert boot.critical() == [], boot.explain()

    # fetch-offline found that aws needs the network; fetch ran with it.
    assert stages_run(boot)[:2] == ["fetch-offline", "fetch"], boot.explain()
    assert any("the network is needed" in m for m in boot.messages()), boot.explain()
    # IMDSv2: a session token first, then the user data with that token.
    asked = [(method, path) for method, path, _ in served.requests]
    assert ("PUT", "/latest/api/token") in asked, asked
    user_data = [h for m, p, h in served.requests if p == "/2019-10-01/user-data"]
    assert user_data and user_data[-1].get("x-aws-ec2-metadata-token") == TOKEN, served.requests
    assert ("GET", "/payload") in asked, asked
    # The token is a secret: never in the journal.
    assert TOKEN not in boot.console, "the IMDSv2 token reached the console"

    tree = boot.sysroot()
    assert tree["/etc/from-imds"]["sha256"] == hashlib.sha256(b"configured by aws").hexdigest(), tree
    assert tree["/etc/from-imds"]["mode"] & 0o7777 == 0o600
    assert tree["/opt/payload"]["sha256"] == hashlib.sha256(PAYLOAD).hexdigest(), tree


def _ext4_with(image: Path, files: dict[str, bytes]) -> None:
    """An ext4 filesystem made from the host with `files` in it (mkfs -d)."""
    with tempfile.TemporaryDirectory() as d:
        for name, data in files.items():
            (Path(d) / name).write_bytes(data)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "keep", "-d", d, str(image)], check=True)


def _files_in(image: Path) -> dict[str, bytes]:
    """The regular files on the image's filesystem, read from the host
    (debugfs: no mount, nothing written)."""
    out = subprocess.run(["debugfs", "-R", "ls -p /", str(image)], capture_output=True, text=True,
                         check=True).stdout
    names = [f.split("/")[5] for f in out.splitlines() if f.count("/") >= 6 and f.split("/")[2].startswith("10")]
    result = {}
    for name in names:
        data = subprocess.run(["debugfs", "-R", f"cat /{name}", str(image)], capture_output=True,
                              check=True).stdout
        result[name] = data
    return result


def test_remote_file_with_a_wrong_hash_ends_in_emergency_with_nothing_written(
        vm: VM, server: tuple[Served, int]) -> None:
    served, port = server
    served.routes["/tampered"] = b"not what the config's hash says\n"
    vda = vm.disk("vda", "64M")
    before = {"kept.txt": b"written before the first boot\n"}
    _ext4_with(vda, before)
    config = {
        "ignition": {"version": "3.4.0"},
        "storage": {
            # The existing filesystem is reused (no wipe) and mounted for files.
            "filesystems": [{"device": "/dev/vda", "format": "ext4", "label": "keep", "path": "/var/data"}],
            "files": [
                {"path": "/var/data/fine", "contents": {"source": "data:,fine"}},
                {"path": "/var/data/tampered", "contents": {
                    "source": f"{SERVER}/tampered", "verification": {"hash": sha512(b"the expected content\n")}}},
                {"path": "/etc/also-fine", "contents": {"source": "data:,also%20fine"}},
            ],
        },
    }
    boot = vm.boot(json.dumps(config), cmdline=("ignition.firstboot", "ignition.platform.id=qemu", *NETWORK),
                   disks=[vda], guestfwd=[(SERVER_ADDR, 80, port)], name="wrong-hash")
    assert not boot.timed_out, boot.explain()
    assert boot.verdict == "emergency", boot.explain()
    assert ("GET", "/tampered") in [(m, p) for m, p, _ in served.requests], served.requests

    critical = boot.critical()
    assert len(critical) == 1, boot.explain()
    assert "/var/data/tampered" in critical[0] and "hash" in critical[0], critical
    assert critical[0] in boot.operator_console or critical[0][:60] in boot.operator_console, boot.explain()
    # The files stage checks every content before its first write: nothing of
    # the config is on the reused filesystem, and what was there is intact.
    assert _files_in(vda) == before
    assert "writing file" not in boot.operator_console, boot.explain()
