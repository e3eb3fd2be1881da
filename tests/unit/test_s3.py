"""s3:// and arn: resources: URL and ARN parsing, SigV4 against the AWS
documentation's example, a fake IMDS (IMDSv2 token, region, role
credentials) and a fake S3 on 127.0.0.1.

Every address a test may reach is loopback: the IMDS and S3 endpoints come
from IGNITION_AWS_IMDS_URL / IGNITION_S3_ENDPOINT, and an autouse fence makes
any name resolution or connection to anything else fail the test
(test_the_fence_stops_the_real_endpoints shows that it does).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import re
from urllib.parse import unquote

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request

from ignition.config.types import Timeouts
from ignition.errors import FetchError, NeedsNetwork
from ignition.log import Logger
from ignition.resources import s3, s3url, sigv4
from ignition.resources.fetcher import Fetcher
from ignition.resources.http import HttpClient
from tests.unit import cloudfakes
from tests.unit.cloudfakes import Recorder, is_loopback
from tests.unit.logsink import ListSink

pytestmark = pytest.mark.allow_socket

KEY_ID = "ASIAFAKEKEYID0000001"
SECRET = "fAkeSeCrEt/KeY+0123456789abcdefghijklmnop"
SESSION_TOKEN = "FaKeSeSsIoNtOkEn//with+chars=="
IMDS_TOKEN = "imds-v2-token-0123456789"


_loopback_only, _module_server, server, sink = cloudfakes.fixtures(
    IGNITION_AWS_IMDS_URL="/imds", IGNITION_S3_ENDPOINT="/s3/{region}")


def logger(sink: ListSink, platform: str = "aws") -> Logger:
    return Logger(sink, stage="files", platform=platform)


def fake_imds(server: HTTPServer, region: str = "us-west-2", role: str | None = "ignition-role") -> None:
    token = {"X-aws-ec2-metadata-token": IMDS_TOKEN}
    server.expect_request("/imds/latest/api/token", method="PUT",
                          headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"}).respond_with_data(IMDS_TOKEN)
    server.expect_request("/imds/latest/meta-data/placement/region", headers=token).respond_with_data(region)
    if role is None:
        server.expect_request("/imds/latest/meta-data/iam/security-credentials/",
                              headers=token).respond_with_data("", status=404)
        return
    server.expect_request("/imds/latest/meta-data/iam/security-credentials/",
                          headers=token).respond_with_data(role + "\n")
    expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    server.expect_request(f"/imds/latest/meta-data/iam/security-credentials/{role}", headers=token).respond_with_json(
        {"Code": "Success", "LastUpdated": "2026-01-01T00:00:00Z", "Type": "AWS-HMAC", "AccessKeyId": KEY_ID,
         "SecretAccessKey": SECRET, "Token": SESSION_TOKEN, "Expiration": expires})


def bucket_in(server: HTTPServer, bucket: str, hint: str, region: str, status: int = 301) -> None:
    server.expect_request(f"/s3/{hint}/{bucket}", method="HEAD").respond_with_data(
        b"", status=status, headers={"x-amz-bucket-region": region})


AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/s3/aws4_request,"
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+),Signature=(?P<sig>[0-9a-f]{64})"
)


def signature_ok(request: Request) -> bool:
    """Recompute the signature from what arrived on the wire (raw path and
    query, the headers named in SignedHeaders) with the documented algorithm."""
    m = AUTH.fullmatch(request.headers.get("Authorization", ""))
    if not m or m["key"] != KEY_ID:
        return False
    path, _, query = request.environ["RAW_URI"].partition("?")
    pairs = [(unquote(k), unquote(v)) for k, _, v in (p.partition("=") for p in query.split("&") if p)]
    headers = {name: request.headers.get(name, "") for name in m["signed"].split(";")}
    canonical, _ = sigv4.canonical_request(request.method, path, pairs, headers)
    scope = f"{m['date']}/{m['region']}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", request.headers["x-amz-date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = sigv4.signing_key(SECRET, m["date"], m["region"], "s3")
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), m["sig"])


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in (SECRET, SESSION_TOKEN, IMDS_TOKEN, "Signature="):
            assert secret not in text


# parsing


@pytest.mark.parametrize(("url", "bucket", "key", "version"), [
    ("s3://my-bucket/config.ign", "my-bucket", "config.ign", None),
    ("s3://my-bucket///dir/sub/file%20name.ign", "my-bucket", "dir/sub/file name.ign", None),
    ("s3://my.dotted.bucket/k?versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY", "my.dotted.bucket", "k",
     "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"),
])
def test_s3_urls(url: str, bucket: str, key: str, version: str | None) -> None:
    assert s3url.parse(url) == s3url.Location(key=key, bucket=bucket, version_id=version)


@pytest.mark.parametrize(("partition", "hint"), [
    ("aws", "us-east-1"), ("aws-cn", "cn-north-1"), ("aws-us-gov", "us-gov-west-1"), ("aws-future", ""),
])
def test_bucket_arns_carry_their_partition_region_hint(partition: str, hint: str) -> None:
    loc = s3url.parse(f"arn:{partition}:s3:::my-bucket/path/to/config.ign")
    assert loc == s3url.Location(key="path/to/config.ign", bucket="my-bucket", region_hint=hint)


def test_arn_keys_are_taken_as_written_and_versions_parsed() -> None:
    # Go keeps an opaque URL escaped, so Ignition does not decode an ARN's key.
    loc = s3url.parse("arn:aws:s3:::my-bucket/a%20b:c?versionId=v1")
    assert (loc.key, loc.version_id) == ("a%20b:c", "v1")


def test_access_point_arns() -> None:
    loc = s3url.parse("arn:aws-us-gov:s3:us-gov-east-1:123456789012:accesspoint/my-ap/object/dir/c.ign?versionId=7")
    assert loc == s3url.Location(key="dir/c.ign", access_point="my-ap", account="123456789012",
                              region="us-gov-east-1", region_hint="us-gov-west-1", version_id="7")


@pytest.mark.parametrize(("url", "message"), [
    ("arn:aws:s3:::my-bucket", "no /<key> after the bucket"),
    ("arn:aws:s3:::my-bucket/", "names no object"),
    ("arn:aws:s3::my-bucket/key", "5 of the 6"),
    ("arn:aws:ec2:::my-bucket/key", "service 'ec2' is not s3"),
    ("arn::s3:::my-bucket/key", "empty partition"),
    ("arn:aws:s3:us-east-1:123456789012:accesspoint/my-ap", "no /object/<key>"),
    ("arn:aws:s3:us-east-1:123456789012:accesspoint/my-ap/objects/k", "no /object/<key>"),
    ("arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap/object/k", "SigV4A"),
    ("arn:aws:s3:us-east-1:1234:accesspoint/my-ap/object/k", "12-digit account"),
    ("arn:aws:s3:::my-bucket/key?versionId=", "versionId"),
    ("s3://my-bucket", "names no object"),
    ("s3://my-bucket/?versionId=v1", "names no object"),
    ("s3://user:pa55w0rd@my-bucket/key", "invalid S3 bucket name"),
])
def test_invalid_s3_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(FetchError, match=re.escape(message)) as exc:
        s3url.parse(url)
    assert "pa55w0rd" not in str(exc.value)


def test_default_endpoints_are_dual_stack_and_per_partition() -> None:
    def url(u: str, region: str) -> str:
        return s3url.object_target(s3url.parse(u), region, None).url

    assert url("s3://my-bucket/a b/ü+x.ign?versionId=v/1", "eu-west-1") == (
        "https://my-bucket.s3.dualstack.eu-west-1.amazonaws.com/a%20b/%C3%BC%2Bx.ign?versionId=v%2F1")
    # Dotted names are not covered by S3's wildcard certificate: path style.
    assert url("s3://my.bucket/k", "us-east-1") == "https://s3.dualstack.us-east-1.amazonaws.com/my.bucket/k"
    assert url("arn:aws-cn:s3:::my-bucket/k", "cn-north-1") == (
        "https://my-bucket.s3.dualstack.cn-north-1.amazonaws.com.cn/k")
    assert url("arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap/object/k", "us-west-2") == (
        "https://my-ap-123456789012.s3-accesspoint.dualstack.us-west-2.amazonaws.com/k")
    assert s3url.bucket_target("my-bucket", "us-gov-west-1", None).url == (
        "https://my-bucket.s3.us-gov-west-1.amazonaws.com/")


def test_dot_segments_in_keys_are_refused() -> None:
    with pytest.raises(FetchError, match=r"'\.' or '\.\.' segments"):
        s3url.object_target(s3url.parse("s3://my-bucket/a/../etc/k"), "us-east-1", None)


# SigV4


def test_sigv4_reproduces_the_documented_get_object_example() -> None:
    # "Example: GET Object" of the S3 SigV4 documentation (Authenticating
    # Requests: Using the Authorization Header), with its fixed keys and date.
    creds = sigv4.Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    when = datetime.datetime(2013, 5, 24, 0, 0, 0, tzinfo=datetime.UTC)
    headers = sigv4.sign("GET", "/test.txt", [], {"Host": "examplebucket.s3.amazonaws.com", "Range": "bytes=0-9"},
                         creds, "us-east-1", when)
    assert headers["x-amz-date"] == "20130524T000000Z"
    assert headers["x-amz-content-sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    canonical, _ = sigv4.canonical_request("GET", "/test.txt", [], {
        k: v for k, v in headers.items() if k != "Authorization"})
    assert canonical == (
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    # The documented string to sign carries this hash of the canonical request.
    assert hashlib.sha256(canonical.encode()).hexdigest() == (
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")


def test_credentials_never_show_their_secrets() -> None:
    creds = sigv4.Credentials(KEY_ID, SECRET, SESSION_TOKEN)
    assert SECRET not in repr(creds) and SESSION_TOKEN not in repr(creds)


# against a fake IMDS and a fake S3


def http_client(sink: ListSink) -> HttpClient:
    # httpTotal bounds a test that goes wrong (the fake answers 500 to an unexpected request).
    return HttpClient(Logger(sink), Timeouts(http_total=5))


def test_role_credentials_sign_the_get(server: HTTPServer, sink: ListSink) -> None:
    fake_imds(server, region="us-west-2")
    bucket_in(server, "my-bucket", hint="us-west-2", region="eu-central-1")
    obj = Recorder(b'{"ignition":{"version":"3.4.0"}}')
    server.expect_request("/s3/eu-central-1/my-bucket/dir/c fg.ign").respond_with_handler(obj)
    data = s3.fetch("s3://my-bucket/dir/c%20fg.ign", http_client(sink), logger(sink))
    assert data == b'{"ignition":{"version":"3.4.0"}}'
    (req,) = obj.requests
    m = AUTH.fullmatch(req.headers["Authorization"])
    assert m is not None
    assert m["region"] == "eu-central-1"
    assert m["signed"] == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
    assert req.headers["x-amz-security-token"] == SESSION_TOKEN
    assert req.headers["x-amz-content-sha256"] == sigv4.EMPTY_SHA256
    assert signature_ok(req)
    assert "from region eu-central-1 with the EC2 instance role's credentials" in sink.text
    assert_no_secrets(sink.text)


def test_version_id_is_a_signed_query_parameter(server: HTTPServer, sink: ListSink) -> None:
    fake_imds(server)
    bucket_in(server, "my-bucket", hint="us-west-2", region="us-west-2", status=200)
    obj = Recorder(b"v1 bytes")
    server.expect_request("/s3/us-west-2/my-bucket/k", query_string="versionId=3HL4kq%2Bv%2F1").respond_with_handler(
        obj)
    assert s3.fetch("s3://my-bucket/k?versionId=3HL4kq%2Bv%2F1", http_client(sink), logger(sink)) == b"v1 bytes"
    assert signature_ok(obj.requests[0])


def test_access_points_need_no_region_lookup(server: HTTPServer, sink: ListSink) -> None:
    fake_imds(server)
    obj = Recorder(b"via ap")
    server.expect_request("/s3/ap-south-1/my-ap-123456789012/dir/k.ign").respond_with_handler(obj)
    url = "arn:aws:s3:ap-south-1:123456789012:accesspoint/my-ap/object/dir/k.ign"
    assert s3.fetch(url, http_client(sink), logger(sink)) == b"via ap"
    m = AUTH.fullmatch(obj.requests[0].headers["Authorization"])
    assert m is not None and m["region"] == "ap-south-1"
    assert signature_ok(obj.requests[0])
    assert not [r for r, _ in server.log if r.method == "HEAD"]


def test_arn_partition_picks_the_region_hint(server: HTTPServer, sink: ListSink) -> None:
    fake_imds(server, region="us-west-2")
    bucket_in(server, "cn-bucket", hint="cn-north-1", region="cn-northwest-1")
    server.expect_request("/s3/cn-northwest-1/cn-bucket/k").respond_with_data(b"cn")
    assert s3.fetch("arn:aws-cn:s3:::cn-bucket/k", http_client(sink), logger(sink)) == b"cn"


def test_anonymous_when_the_instance_has_no_role(server: HTTPServer, sink: ListSink) -> None:
    fake_imds(server, role=None)
    bucket_in(server, "public-bucket", hint="us-west-2", region="us-west-2", status=403)
    obj = Recorder(b"public")
    server.expect_request("/s3/us-west-2/public-bucket/k").respond_with_handler(obj)
    assert s3.fetch("s3://public-bucket/k", http_client(sink), logger(sink)) == b"public"
    assert "Authorization" not in obj.requests[0].headers
    assert "x-amz-security-token" not in obj.requests[0].headers
    assert "no EC2 instance role credentials (no IAM role is attached to this instance)" in sink.text
    assert "anonymously" in sink.text


def test_imdsv1_when_the_token_is_refused(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/imds/latest/api/token", method="PUT").respond_with_data("", status=405)
    server.expect_request("/imds/latest/meta-data/placement/region").respond_with_data("eu-west-3")
    server.expect_request("/imds/latest/meta-data/iam/security-credentials/").respond_with_data("", status=404)
    bucket_in(server, "my-bucket", hint="eu-west-3", region="eu-west-3", status=200)
    server.expect_request("/s3/eu-west-3/my-bucket/k").respond_with_data(b"ok")
    assert s3.fetch("s3://my-bucket/k", http_client(sink), logger(sink)) == b"ok"
    assert all("X-aws-ec2-metadata-token" not in r.headers for r, _ in server.log if "/imds/" in r.path)
    assert "IMDSv2 token refused; using IMDSv1" in sink.text


def test_other_platforms_never_ask_imds(server: HTTPServer, sink: ListSink) -> None:
    bucket_in(server, "my-bucket", hint="us-east-1", region="us-east-2")
    obj = Recorder(b"anon")
    server.expect_request("/s3/us-east-2/my-bucket/k").respond_with_handler(obj)
    assert s3.fetch("s3://my-bucket/k", http_client(sink), logger(sink, platform="qemu")) == b"anon"
    assert "Authorization" not in obj.requests[0].headers
    assert not [r for r, _ in server.log if "/imds/" in r.path]


def test_imds_and_bucket_regions_are_asked_once_per_client(server: HTTPServer, sink: ListSink) -> None:
    fake_imds(server)
    bucket_in(server, "my-bucket", hint="us-west-2", region="us-west-2", status=200)
    server.expect_request("/s3/us-west-2/my-bucket/a").respond_with_data(b"a")
    server.expect_request("/s3/us-west-2/my-bucket/b").respond_with_data(b"b")
    client = http_client(sink)
    assert s3.fetch("s3://my-bucket/a", client, logger(sink)) == b"a"
    assert s3.fetch("s3://my-bucket/b", client, logger(sink)) == b"b"
    paths = [r.path for r, _ in server.log]
    assert paths.count("/imds/latest/api/token") == 1
    assert paths.count("/s3/us-west-2/my-bucket") == 1


def test_403_says_why_without_secrets(server: HTTPServer, sink: ListSink) -> None:
    fake_imds(server)
    bucket_in(server, "my-bucket", hint="us-west-2", region="us-west-2", status=403)
    server.expect_request("/s3/us-west-2/my-bucket/k").respond_with_data(
        b"<Error><Code>AccessDenied</Code></Error>", status=403)
    with pytest.raises(FetchError) as exc:
        s3.fetch("s3://my-bucket/k?versionId=v9", http_client(sink), logger(sink))
    message = str(exc.value)
    assert message.startswith("fetching s3://my-bucket/k?versionId=***: failed to fetch resource")
    assert "HTTP 403" in message and "instance role may lack s3:GetObject" in message
    assert_no_secrets(message, sink.text)


def test_404_is_resource_not_found(server: HTTPServer, sink: ListSink) -> None:
    bucket_in(server, "my-bucket", hint="us-east-1", region="us-east-1", status=200)
    server.expect_request("/s3/us-east-1/my-bucket/missing").respond_with_data(b"", status=404)
    with pytest.raises(FetchError, match=r"resource not found: .*\(HTTP 404\)"):
        s3.fetch("s3://my-bucket/missing", http_client(sink), logger(sink, platform="metal"))


def test_unknown_bucket(server: HTTPServer, sink: ListSink) -> None:
    server.expect_request("/s3/us-east-1/no-such-bucket", method="HEAD").respond_with_data(b"", status=404)
    with pytest.raises(FetchError, match="could not find S3 bucket 'no-such-bucket'"):
        s3.fetch("s3://no-such-bucket/k", http_client(sink), logger(sink, platform="metal"))


def test_through_the_fetcher_with_verification(server: HTTPServer, sink: ListSink) -> None:
    fake_imds(server)
    bucket_in(server, "my-bucket", hint="us-west-2", region="us-west-2", status=200)
    server.expect_request("/s3/us-west-2/my-bucket/k").respond_with_data(b"payload")
    fetcher = Fetcher(logger(sink))
    good = "sha256-" + hashlib.sha256(b"payload").hexdigest()
    assert fetcher.fetch("s3://my-bucket/k", verification=good) == b"payload"
    with pytest.raises(FetchError, match="hash verification failed"):
        fetcher.fetch("arn:aws:s3:::my-bucket/k", verification="sha256-" + "0" * 64)
    with pytest.raises(FetchError, match="compression is not supported with s3 URLs"):
        fetcher.fetch("s3://my-bucket/k", compression="gzip")
    with pytest.raises(NeedsNetwork):
        Fetcher(logger(sink), offline=True).fetch("arn:aws:s3:::my-bucket/k")


# the fence


def test_the_fence_stops_the_real_endpoints(monkeypatch: pytest.MonkeyPatch, sink: ListSink,
                                            _loopback_only: list[str]) -> None:
    # Without the overrides the code would go to the real IMDS and S3: the
    # fence turns that into a failure before a packet leaves.
    monkeypatch.delenv("IGNITION_AWS_IMDS_URL", raising=False)
    monkeypatch.delenv("IGNITION_S3_ENDPOINT", raising=False)
    with pytest.raises(AssertionError, match=r"non-loopback '169\.254\.169\.254'"):
        s3.fetch("s3://my-bucket/k", http_client(sink), logger(sink, platform="aws"))
    with pytest.raises(AssertionError, match=r"non-loopback 'my-bucket\.s3\.us-east-1\.amazonaws\.com'"):
        s3.fetch("s3://my-bucket/k", http_client(sink), logger(sink, platform="metal"))
    assert _loopback_only == ["169.254.169.254", "my-bucket.s3.us-east-1.amazonaws.com"]


def test_the_test_endpoints_are_loopback(server: HTTPServer) -> None:
    import os
    from urllib.parse import urlsplit

    for var in ("IGNITION_AWS_IMDS_URL", "IGNITION_S3_ENDPOINT"):
        assert is_loopback(urlsplit(os.environ[var]).hostname or "")
    assert json.dumps(server.url_for("/")).startswith('"http://127.0.0.1:')
