"""The platforms' status hook: the engine reports every stage's outcome to the
provider after it ran; Equinix Metal (`packet`) posts it to the phone-home
service named by its metadata. Served by a fake metadata service on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from ignition.context import ProviderContext
from ignition.environment import Environment
from ignition.log import WARNING, Logger
from ignition.providers import StatusReporter, report_status
from ignition.providers.file import FileProvider
from ignition.providers.packet import PacketProvider, status_message
from ignition.resources.fetcher import Fetcher
from ignition.run import Runner
from tests.unit.logsink import ListSink
from tests.unit.machinefixtures import Machine, new_machine

pytestmark = pytest.mark.allow_socket

CONFIG = {"ignition": {"version": "3.3.0"}}


class Equinix:
    """A fake metadata service with its phone-home endpoint on the same server."""

    def __init__(self, server: HTTPServer, userdata: bytes = json.dumps(CONFIG).encode(),
                 phone_home: str = "/phone-home", metadata_status: int = 200) -> None:
        self.server = server
        self.events: list[dict[str, Any]] = []
        self.event_headers: list[Mapping[str, str]] = []
        base = server.url_for("").rstrip("/")
        meta = {"id": "abc", "phone_home_url": base + phone_home if phone_home else ""}
        server.expect_request("/userdata", method="GET").respond_with_data(userdata)
        server.expect_request("/metadata", method="GET", headers={"Accept": "*/*"}).respond_with_data(
            json.dumps(meta), status=metadata_status, content_type="application/json")
        server.expect_request("/events", method="POST").respond_with_handler(self._event)

    def _event(self, request: Request) -> Response:
        self.events.append(json.loads(request.get_data()))
        self.event_headers.append(dict(request.headers))
        return Response(b"", status=204)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")


def machine(tmp_path: Path, metadata_base: str) -> Machine:
    """A first-boot machine on Equinix Metal whose metadata service is `metadata_base`."""
    return new_machine(tmp_path, "ignition.firstboot\n", metadata_urls=(("packet", metadata_base),))


def run(m: Machine, stage: str, fetch_timeout: float = 5.0) -> int:
    return m.run(stage, platform="packet", fetch_timeout=fetch_timeout)


def test_each_stage_posts_running_to_the_phone_home_events(tmp_path: Path, httpserver: HTTPServer) -> None:
    svc = Equinix(httpserver)
    m = machine(tmp_path, svc.url)
    assert run(m, "fetch") == 0
    assert run(m, "files") == 0
    assert svc.events == [
        {"state": "running", "message": "[fetch] Ignition status: finished successfully"},
        {"state": "running", "message": "[files] Ignition status: finished successfully"},
    ]
    assert all(h["Content-Type"] == "application/json" for h in svc.event_headers)
    assert f"to the Equinix Metal timeline at {svc.url}/events" in m.sink.text
    assert not m.sink.at(WARNING)


def test_a_failed_stage_posts_failed_with_its_error_and_still_exits_1(tmp_path: Path,
                                                                      httpserver: HTTPServer) -> None:
    svc = Equinix(httpserver, userdata=b'{"ignition": {"version": "9.9.9"}}')
    m = machine(tmp_path, svc.url)
    assert run(m, "fetch") == 1
    [event] = svc.events
    assert event["state"] == "failed"
    assert event["message"].startswith("[fetch] Ignition error: ")
    assert "9.9.9" in event["message"]
    assert not m.sink.at(WARNING)


def test_a_failing_hook_is_a_warning_and_changes_no_outcome(tmp_path: Path, httpserver: HTTPServer) -> None:
    svc = Equinix(httpserver, metadata_status=404)
    m = machine(tmp_path, svc.url)
    assert run(m, "fetch") == 0
    assert Path(m.paths.config_cache).exists()
    [warning] = m.sink.at(WARNING)
    assert "reporting the fetch stage's status to the platform failed" in warning
    assert "HTTP 404" in warning
    assert svc.events == []


def test_a_failing_hook_after_a_failed_stage_keeps_exit_1(tmp_path: Path) -> None:
    m = machine(tmp_path, "http://127.0.0.1:9")  # nothing listens on the discard port
    (tmp_path / "run" / "ignition.json").write_text("not json")
    assert run(m, "files", fetch_timeout=0.5) == 1
    assert any("the config cache" in c for c in m.sink.at(2))
    [warning] = m.sink.at(WARNING)
    assert "gave up waiting for the Equinix Metal metadata service" in warning


def test_fetch_offline_does_not_try_without_the_network(tmp_path: Path, httpserver: HTTPServer) -> None:
    svc = Equinix(httpserver)
    m = machine(tmp_path, svc.url)
    assert run(m, "fetch-offline") == 0
    assert Path(m.paths.neednet).exists()
    assert "not reporting the fetch-offline stage's status to the platform: resource requires networking" \
        in m.sink.text
    assert not m.sink.at(WARNING)
    assert httpserver.log == []


def test_phone_home_url_credentials_are_never_logged(tmp_path: Path, httpserver: HTTPServer) -> None:
    port = httpserver.port
    httpserver.expect_request("/metadata").respond_with_json(
        {"phone_home_url": f"http://tink:s3cr3t-value@127.0.0.1:{port}/hooks/phone-home"})
    httpserver.expect_request("/hooks/events", method="POST").respond_with_data(b"", status=500)
    sink = ListSink()
    ctx = ProviderContext("packet", Logger(sink), Runner(Logger(sink)), Fetcher(Logger(sink)),
                          Environment(metadata_urls=(("packet", httpserver.url_for("")),)), 2.0)
    report_status(PacketProvider(), ctx, "disks", "no such disk")
    [post] = [r for r, _ in httpserver.log if r.method == "POST"]
    assert post.authorization is not None and post.authorization.password == "s3cr3t-value"
    assert json.loads(post.get_data())["message"] == "[disks] Ignition error: no such disk"
    [warning] = sink.at(WARNING)
    assert f"POST http://tink:***@127.0.0.1:{port}/hooks/events: HTTP 500" in warning
    assert "s3cr3t" not in sink.text


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"phone_home_url": ""}', b"{}"])
def test_metadata_without_a_phone_home_url_fails_the_hook(tmp_path: Path, httpserver: HTTPServer,
                                                          body: bytes) -> None:
    httpserver.expect_request("/metadata").respond_with_data(body)
    sink = ListSink()
    ctx = ProviderContext("packet", Logger(sink), Runner(Logger(sink)), Fetcher(Logger(sink)),
                          Environment(metadata_urls=(("packet", httpserver.url_for("")),)), 2.0)
    report_status(PacketProvider(), ctx, "kargs", None)
    [warning] = sink.at(WARNING)
    assert "phone_home_url" in warning or "not JSON" in warning


def test_event_texts_are_ignitions() -> None:
    assert status_message("mount", None) == {
        "state": "running", "message": "[mount] Ignition status: finished successfully"}
    assert status_message("mount", "boom") == {"state": "failed", "message": "[mount] Ignition error: boom"}


def test_providers_without_a_hook_do_nothing() -> None:
    assert isinstance(PacketProvider(), StatusReporter)
    assert not isinstance(FileProvider(), StatusReporter)
    sink = ListSink()
    ctx = ProviderContext("file", Logger(sink), Runner(Logger(sink)), Fetcher(Logger(sink)), Environment(), 1.0)
    report_status(FileProvider(), ctx, "files", "boom")
    assert sink.entries == []


def test_a_dry_run_posts_nothing_and_a_buggy_hook_only_warns(tmp_path: Path, httpserver: HTTPServer) -> None:
    sink = ListSink()
    env = Environment(metadata_urls=(("packet", httpserver.url_for("")),))
    dry = ProviderContext("packet", Logger(sink), Runner(Logger(sink)), Fetcher(Logger(sink)), env, 2.0,
                          dry_run=True)
    report_status(PacketProvider(), dry, "files", None)
    assert httpserver.log == []
    assert "dry run: not reporting the files stage's status" in sink.text

    class Buggy:
        def status(self, ctx: ProviderContext, stage: str, error: str | None) -> None:
            raise KeyError("phone_home_url")

    real = dataclasses.replace(dry, dry_run=False)
    report_status(Buggy(), real, "files", "boom")
    assert sink.at(WARNING)[-1] == ("reporting the files stage's status to the platform failed: "
                                    "KeyError: 'phone_home_url'")
