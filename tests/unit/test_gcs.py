"""gs:// resources: URL conversion to the JSON API, GCE detection, the
metadata server's OAuth token, anonymous reads, against fakes on 127.0.0.1.

IGNITION_GCS_URL and IGNITION_GCE_METADATA_URL point at the fake; an autouse
fence fails any test that resolves or connects to a non-loopback address
(test_the_fence_stops_the_real_endpoints shows that it does).
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request

from ignition.config.types import Timeouts
from ignition.errors import FetchError
from ignition.log import Logger
from ignition.resources import gcs
from ignition.resources.fetcher import Fetcher
from ignition.resources.http import HttpClient
from tests.unit import cloudfakes
from tests.unit.cloudfakes import Recorder
from tests.unit.logsink import ListSink

pytestmark = pytest.mark.allow_socket

ACCESS_TOKEN = "ya29.FaKeAcCeSsToKeN-0123456789"
SA = "/computeMetadata/v1/instance/service-accounts/default"


_loopback_only, _module_server, server, sink = cloudfakes.fixtures(
    IGNITION_GCS_URL="/gcs", IGNITION_GCE_METADATA_URL="/md")


def client(sink: ListSink) -> HttpClient:
    return HttpClient(Logger(sink), Timeouts(http_total=5))


def logger(sink: ListSink, platform: str = "gcp") -> Logger:
    return Logger(sink, stage="files", platform=platform)


def fake_metadata(server: HTTPServer, expires_in: int = 3599) -> None:
    flavor = {"Metadata-Flavor": "Google"}
    server.expect_request("/md" + SA + "/scopes", headers=flavor).respond_with_data(
        "https://www.googleapis.com/auth/devstorage.read_only\n")
    server.expect_request("/md" + SA + "/token", headers=flavor,
                          query_string={"scopes": gcs.SCOPE}).respond_with_json(
        {"access_token": ACCESS_TOKEN, "expires_in": expires_in, "token_type": "Bearer"})


def raw_uri(request: Request) -> str:
    return str(request.environ["RAW_URI"])


# URLs


@pytest.mark.parametrize(("url", "expected"), [
    ("gs://my-bucket/config.ign", "/storage/v1/b/my-bucket/o/config.ign?alt=media"),
    ("gs://my-bucket/dir/sub/a b+c.ign", "/storage/v1/b/my-bucket/o/dir%2Fsub%2Fa%20b%2Bc.ign?alt=media"),
    ("gs://my-bucket//lead/%23x%3F.ign", "/storage/v1/b/my-bucket/o/lead%2F%23x%3F.ign?alt=media"),
    ("gs://my.bucket/ü~=.ign", "/storage/v1/b/my.bucket/o/%C3%BC~%3D.ign?alt=media"),
])
def test_gs_urls_become_json_api_media_urls(url: str, expected: str) -> None:
    assert gcs.object_url(url) == "https://storage.googleapis.com" + expected


@pytest.mark.parametrize(("url", "message"), [
    ("gs://my-bucket", "names no object"),
    ("gs://my-bucket/", "names no object"),
    ("gs:///obj", "invalid GCS bucket"),
    ("gs://user:pa55w0rd@bucket/obj", "invalid GCS bucket"),
])
def test_invalid_gs_urls(url: str, message: str) -> None:
    with pytest.raises(FetchError, match=re.escape(message)) as exc:
        gcs.parse(url)
    assert "pa55w0rd" not in str(exc.value)


def test_gce_detection(tmp_path: Path) -> None:
    dmi = tmp_path / "product_name"
    assert gcs.on_gce("metal", {"IGNITION_GCE_METADATA_URL": "http://127.0.0.1:1"}, str(dmi))
    assert not gcs.on_gce("gcp", {"IGNITION_GCE_METADATA_URL": ""}, str(dmi))
    assert gcs.on_gce("gcp", {}, str(dmi))
    assert not gcs.on_gce("metal", {}, str(dmi))
    dmi.write_text("Google Compute Engine\n")
    assert gcs.on_gce("metal", {}, str(dmi))
    dmi.write_text("Standard PC (Q35 + ICH9, 2009)\n")
    assert not gcs.on_gce("metal", {}, str(dmi))


# against a fake metadata server and a fake storage API


def test_on_gce_the_read_carries_the_metadata_token(server: HTTPServer, sink: ListSink) -> None:
    fake_metadata(server)
    obj = Recorder(b'{"ignition":{"version":"3.4.0"}}')
    server.expect_request("/gcs/storage/v1/b/my-bucket/o/dir/c.ign", query_string="alt=media").respond_with_handler(obj)
    data = gcs.fetch("gs://my-bucket/dir/c.ign", client(sink), logger(sink))
    assert data == b'{"ignition":{"version":"3.4.0"}}'
    (req,) = obj.requests
    assert raw_uri(req) == "/gcs/storage/v1/b/my-bucket/o/dir%2Fc.ign?alt=media"
    assert req.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert "using the instance's service account for GCS" in sink.text
    assert ACCESS_TOKEN not in sink.text


def test_the_token_is_reused_until_it_expires(server: HTTPServer, sink: ListSink) -> None:
    fake_metadata(server)
    server.expect_request("/gcs/storage/v1/b/my-bucket/o/a").respond_with_data(b"a")
    server.expect_request("/gcs/storage/v1/b/my-bucket/o/b").respond_with_data(b"b")
    http = client(sink)
    assert gcs.fetch("gs://my-bucket/a", http, logger(sink)) == b"a"
    assert gcs.fetch("gs://my-bucket/b", http, logger(sink)) == b"b"
    assert [r.path for r, _ in server.log].count("/md" + SA + "/token") == 1


def test_anonymous_when_not_on_gce(server: HTTPServer, sink: ListSink, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    monkeypatch.setenv("IGNITION_GCE_METADATA_URL", "")
    obj = Recorder(b"public")
    server.expect_request("/gcs/storage/v1/b/pub/o/k.ign").respond_with_handler(obj)
    assert gcs.fetch("gs://pub/k.ign", client(sink), logger(sink, "metal"), dmi_path=str(tmp_path / "none")) == (
        b"public")
    assert "Authorization" not in obj.requests[0].headers
    assert not [r for r, _ in server.log if r.path.startswith("/md/")]


def test_anonymous_when_the_instance_has_no_service_account(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/md" + SA + "/scopes").respond_with_data("", status=404)
    obj = Recorder(b"public")
    server.expect_request("/gcs/storage/v1/b/pub/o/k.ign").respond_with_handler(obj)
    assert gcs.fetch("gs://pub/k.ign", client(sink), logger(sink)) == b"public"
    assert "Authorization" not in obj.requests[0].headers
    assert "falling back to unauthenticated GCS access: no service account" in sink.text


def test_a_failing_token_endpoint_is_an_error(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/md" + SA + "/scopes").respond_with_data("scope")
    server.expect_request("/md" + SA + "/token").respond_with_data("denied", status=403)
    with pytest.raises(FetchError, match="getting an OAuth token for GCS from the metadata server: HTTP 403"):
        gcs.fetch("gs://b-1/k", client(sink), logger(sink))


def test_403_and_404(server: HTTPServer, sink: ListSink) -> None:
    fake_metadata(server)
    server.expect_request("/gcs/storage/v1/b/priv/o/k").respond_with_data(b"{}", status=403)
    server.expect_request("/gcs/storage/v1/b/priv/o/gone").respond_with_data(b"{}", status=404)
    http = client(sink)
    with pytest.raises(FetchError) as exc:
        gcs.fetch("gs://priv/k", http, logger(sink))
    assert "HTTP 403" in str(exc.value) and "service account may not read it" in str(exc.value)
    assert ACCESS_TOKEN not in str(exc.value) and ACCESS_TOKEN not in sink.text
    with pytest.raises(FetchError, match=r"fetching gs://priv/gone: resource not found"):
        gcs.fetch("gs://priv/gone", http, logger(sink))


def test_through_the_fetcher_with_gzip_and_verification(server: HTTPServer, sink: ListSink) -> None:
    fake_metadata(server)
    server.expect_request("/gcs/storage/v1/b/my-bucket/o/c.ign.gz").respond_with_data(gzip.compress(b"plain"))
    good = "sha512-" + hashlib.sha512(b"plain").hexdigest()
    fetcher = Fetcher(logger(sink))
    assert fetcher.fetch("gs://my-bucket/c.ign.gz", compression="gzip", verification=good) == b"plain"


# the fence


def test_the_fence_stops_the_real_endpoints(monkeypatch: pytest.MonkeyPatch, sink: ListSink,
                                            _loopback_only: list[str]) -> None:
    monkeypatch.delenv("IGNITION_GCS_URL", raising=False)
    monkeypatch.delenv("IGNITION_GCE_METADATA_URL", raising=False)
    with pytest.raises(AssertionError, match=r"non-loopback '169\.254\.169\.254'"):
        gcs.fetch("gs://b-1/k", client(sink), logger(sink, "gcp"))
    monkeypatch.setenv("IGNITION_GCE_METADATA_URL", "")
    with pytest.raises(AssertionError, match=r"non-loopback 'storage\.googleapis\.com'"):
        gcs.fetch("gs://b-1/k", client(sink), logger(sink, "metal"))
    assert _loopback_only == ["169.254.169.254", "storage.googleapis.com"]
