"""Cloud providers against fakes of their metadata services on 127.0.0.1 and
directories standing in for their config drives.

Every connection and name lookup in this module goes through a guard that
refuses anything but loopback before it leaves the machine, so a provider that
ignored its override would fail here, never reach a link-local or remote host.
"""

from __future__ import annotations

import base64
import errno
import gzip
import ipaddress
import shutil
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer, URIPattern
from werkzeug.wrappers import Request, Response

from ignition import registry
from ignition.context import ProviderContext
from ignition.environment import Environment
from ignition.errors import CommandError, FetchError, NeedsNetwork
from ignition.log import Logger
from ignition.providers import Provider, openstack
from ignition.providers.akamai import AkamaiProvider
from ignition.providers.aliyun import AliyunProvider
from ignition.providers.aws import AwsProvider
from ignition.providers.azure import AzureProvider, AzureStackProvider
from ignition.providers.cloudstack import CloudStackProvider, dhcp_server
from ignition.providers.digitalocean import DigitalOceanProvider
from ignition.providers.exoscale import ExoscaleProvider
from ignition.providers.gcp import GcpProvider
from ignition.providers.hetzner import HetznerProvider
from ignition.providers.ibmcloud import IbmCloudProvider
from ignition.providers.kubevirt import KubeVirtProvider
from ignition.providers.metadata import UserDataProvider
from ignition.providers.nutanix import NutanixProvider
from ignition.providers.openstack import BrightboxProvider, OpenStackProvider
from ignition.providers.oraclecloud import OracleCloudProvider
from ignition.providers.packet import PacketProvider
from ignition.providers.powervs import PowerVSProvider
from ignition.providers.proxmoxve import ProxmoxVEProvider
from ignition.providers.scaleway import ScalewayProvider
from ignition.providers.upcloud import UpCloudProvider
from ignition.providers.vultr import VultrProvider
from ignition.resources.fetcher import Fetcher
from ignition.run import Result, Runner

pytestmark = pytest.mark.allow_socket

CONFIG = b'{"ignition":{"version":"3.4.0"}}'
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class ListSink:
    def __init__(self) -> None:
        self.entries: list[tuple[int, str, dict[str, str]]] = []

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        self.entries.append((priority, message, dict(fields)))

    def text(self) -> str:
        return "\n".join(m for _, m, _ in self.entries)


class MountingRunner(Runner):
    """Runs nothing: `mount ... DEV MNT` copies the tree standing for DEV's
    filesystem into MNT (fails like mount(8) for unknown devices), `umount MNT`
    empties MNT."""

    def __init__(self, logger: Logger, images: Mapping[str, Path] | None = None) -> None:
        super().__init__(logger)
        self.images = dict(images or {})
        self.calls: list[list[str]] = []

    def run(self, argv: Sequence[str], *, input: bytes | None = None, probe: bool = False,
            check: bool = True, env: Mapping[str, str] | None = None, timeout: float | None = None,
            secret_input: bool = False) -> Result:
        self.calls.append(list(argv))
        if argv[0] == "mount":
            device, mnt = argv[-2], argv[-1]
            if device not in self.images:
                if check:
                    raise CommandError(argv, 32, b"", f"mount: {mnt}: wrong fs type on {device}".encode())
                return Result(tuple(argv), 32, b"", b"")
            shutil.copytree(self.images[device], mnt, dirs_exist_ok=True)
        elif argv[0] == "umount":
            for child in Path(argv[-1]).iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        return Result(tuple(argv), 0, b"", b"")


class Setup:
    def __init__(self, tmp_path: Path, *, urls: Mapping[str, str] | None = None, fetch_timeout: float = 3.0,
                 offline: bool = False, drives: bool = True) -> None:
        self.tmp = tmp_path
        self.sink = ListSink()
        self.logger = Logger(self.sink, stage="fetch", platform="test")
        self.runner = MountingRunner(self.logger)
        self.drives = tmp_path / "drives"
        self.drives.mkdir(parents=True, exist_ok=True)
        self.dev = tmp_path / "dev"
        self.leases = tmp_path / "leases"
        self.env = Environment(
            cmdline_path=str(tmp_path / "cmdline"),
            system_config_dir=str(tmp_path / "usr"),
            system_local_config_dir=str(tmp_path / "etc"),
            system_runtime_config_dir=str(tmp_path / "run"),
            metadata_urls=tuple(sorted((urls or {}).items())),
            config_drive_dir=str(self.drives) if drives else None,
            dev_dir=str(self.dev),
            networkd_leases_dir=str(self.leases),
        )
        self.ctx = ProviderContext("test", self.logger, self.runner, Fetcher(self.logger, offline=offline),
                                   self.env, fetch_timeout)

    def drive(self, label: str, files: Mapping[str, bytes]) -> Path:
        root = self.drives / label
        for path, data in files.items():
            target = root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        root.mkdir(parents=True, exist_ok=True)
        return root


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host this test connected to or looked up; non-loopback ones are
    refused before any packet leaves."""
    seen: list[str] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            seen.append(f"{host}:{address[1]}")
            if host not in LOOPBACK:
                raise ConnectionRefusedError(errno.ECONNREFUSED, f"test guard: refused to connect to {host}")
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(name.strip("[]"))
        except ValueError:
            if name not in LOOPBACK:
                seen.append(f"dns:{name}")
                raise socket.gaierror(socket.EAI_NONAME, f"test guard: refused to resolve {name}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return seen


def server_url(httpserver: HTTPServer) -> str:
    return httpserver.url_for("").rstrip("/")


def setup_for(tmp_path: Path, httpserver: HTTPServer, platform: str, **kwargs: Any) -> Setup:
    return Setup(tmp_path, urls={platform: server_url(httpserver)}, **kwargs)


def requests_seen(httpserver: HTTPServer) -> list[tuple[str, str, dict[str, str]]]:
    return [(req.method, req.full_path.rstrip("?"), dict(req.headers)) for req, _ in httpserver.log]


def flaky(*statuses: int, then: bytes = CONFIG) -> Callable[[Request], Response]:
    """A handler answering `statuses` in turn, then `then` with 200."""
    left = list(statuses)

    def handler(request: Request) -> Response:
        if left:
            return Response(b"busy", status=left.pop(0))
        return Response(then, status=200)

    return handler


# One GET of user data: platform, path, headers Ignition sends, how the body is stored.

SIMPLE: list[tuple[type[UserDataProvider], str, dict[str, str], bool]] = [
    (DigitalOceanProvider, "/metadata/v1/user-data", {}, False),
    (HetznerProvider, "/hetzner/v1/userdata", {}, False),
    (VultrProvider, "/user-data/user-data", {}, False),
    (ExoscaleProvider, "/1.0/user-data", {}, False),
    (UpCloudProvider, "/metadata/v1/user_data", {}, False),
    (AliyunProvider, "/latest/user-data", {}, False),
    (GcpProvider, "/computeMetadata/v1/instance/attributes/user-data", {"Metadata-Flavor": "Google"}, False),
    (OracleCloudProvider, "/opc/v2/instance/metadata/user_data", {"Authorization": "Bearer Oracle"}, True),
    (PacketProvider, "/userdata", {"Accept": "*/*"}, False),
    (ScalewayProvider, "/user_data/cloud-init", {}, False),
]
SIMPLE_IDS = [p.name for p, *_ in SIMPLE]


@pytest.mark.parametrize(("cls", "path", "headers", "b64"), SIMPLE, ids=SIMPLE_IDS)
def test_user_data_path_and_headers(tmp_path: Path, httpserver: HTTPServer, cls: type[UserDataProvider],
                                    path: str, headers: dict[str, str], b64: bool) -> None:
    body = base64.b64encode(CONFIG) if b64 else CONFIG
    httpserver.expect_request(path, method="GET", headers=headers).respond_with_data(body)
    s = setup_for(tmp_path, httpserver, cls.name)
    assert cls().fetch_config(s.ctx) == CONFIG
    httpserver.check_assertions()
    [(method, seen_path, seen_headers)] = requests_seen(httpserver)
    assert (method, seen_path) == ("GET", path)
    for name, value in headers.items():
        assert seen_headers[name] == value
    assert seen_headers["User-Agent"].startswith("Ignition/")
    assert CONFIG.decode() not in s.sink.text()


@pytest.mark.parametrize(("cls", "path"), [(c, p) for c, p, _, _ in SIMPLE], ids=SIMPLE_IDS)
@pytest.mark.parametrize(("status", "body"), [(404, b"not found"), (200, b""), (200, b"  \n")])
def test_user_data_missing_is_no_config(tmp_path: Path, httpserver: HTTPServer, cls: type[UserDataProvider],
                                        path: str, status: int, body: bytes) -> None:
    httpserver.expect_request(path).respond_with_data(body, status=status)
    s = setup_for(tmp_path, httpserver, cls.name)
    assert cls().fetch_config(s.ctx) is None
    assert "no config provided" in s.sink.text()


def test_user_data_retries_5xx_until_the_service_answers(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/metadata/v1/user-data").respond_with_handler(flaky(500, 503, 502))
    s = setup_for(tmp_path, httpserver, "digitalocean")
    assert DigitalOceanProvider().fetch_config(s.ctx) == CONFIG
    assert len(httpserver.log) == 4
    assert "waiting for the DigitalOcean metadata service" in s.sink.text()
    assert "HTTP 500" in s.sink.text()


def test_user_data_retries_connection_refused(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = Setup(tmp_path, urls={"vultr": f"http://127.0.0.1:{port}"}, fetch_timeout=0.8)
    with pytest.raises(FetchError) as exc:
        VultrProvider().fetch_config(s.ctx)
    message = str(exc.value)
    assert "gave up waiting for the Vultr metadata service" in message
    assert "-fetch-timeout 0.8s" in message
    assert "Connection refused" in message
    assert "waiting for the Vultr metadata service" in s.sink.text()


def test_user_data_gives_up_after_fetch_timeout(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hetzner/v1/userdata").respond_with_data(b"down", status=503)
    s = setup_for(tmp_path, httpserver, "hetzner", fetch_timeout=0.7)
    with pytest.raises(FetchError, match=r"gave up waiting for the Hetzner Cloud metadata service .*HTTP 503"):
        HetznerProvider().fetch_config(s.ctx)
    assert len(httpserver.log) >= 2


def test_user_data_other_client_error_fails(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/latest/user-data").respond_with_data(b"no", status=403)
    s = setup_for(tmp_path, httpserver, "aliyun")
    with pytest.raises(FetchError, match="HTTP 403"):
        AliyunProvider().fetch_config(s.ctx)
    assert len(httpserver.log) == 1


def test_user_data_offline_needs_network(tmp_path: Path, httpserver: HTTPServer) -> None:
    s = setup_for(tmp_path, httpserver, "gcp", offline=True)
    with pytest.raises(NeedsNetwork, match="resource requires networking"):
        GcpProvider().fetch_config(s.ctx)
    assert httpserver.log == []


def test_oraclecloud_bad_base64(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/opc/v2/instance/metadata/user_data").respond_with_data(b"{not base64!}")
    s = setup_for(tmp_path, httpserver, "oraclecloud")
    with pytest.raises(FetchError, match="not valid base64"):
        OracleCloudProvider().fetch_config(s.ctx)


def test_scaleway_source_port_is_privileged(tmp_path: Path, httpserver: HTTPServer) -> None:
    ports: list[int] = []

    def handler(request: Request) -> Response:
        ports.append(int(request.environ["REMOTE_PORT"]))
        return Response(CONFIG)

    httpserver.expect_request("/user_data/cloud-init").respond_with_handler(handler)
    s = setup_for(tmp_path, httpserver, "scaleway")
    assert ScalewayProvider().fetch_config(s.ctx) == CONFIG
    assert len(ports) == 1
    assert 0 < ports[0] < 1024


# aws


AWS_TOKEN = "AQAEAtokenSECRETvalue=="


def test_aws_imdsv2(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request(
        "/latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"}
    ).respond_with_data(AWS_TOKEN)
    httpserver.expect_ordered_request(
        "/2019-10-01/user-data", method="GET", headers={"X-aws-ec2-metadata-token": AWS_TOKEN}
    ).respond_with_data(CONFIG)
    s = setup_for(tmp_path, httpserver, "aws")
    assert AwsProvider().fetch_config(s.ctx) == CONFIG
    httpserver.check_assertions()
    assert [(m, p) for m, p, _ in requests_seen(httpserver)] == [
        ("PUT", "/latest/api/token"), ("GET", "/2019-10-01/user-data")]
    assert AWS_TOKEN not in s.sink.text()


@pytest.mark.parametrize("status", [403, 404, 405])
def test_aws_falls_back_to_imdsv1(tmp_path: Path, httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/latest/api/token", method="PUT").respond_with_data(b"", status=status)
    httpserver.expect_request("/2019-10-01/user-data", method="GET").respond_with_data(CONFIG)
    s = setup_for(tmp_path, httpserver, "aws")
    assert AwsProvider().fetch_config(s.ctx) == CONFIG
    [_, (_, _, headers)] = requests_seen(httpserver)
    assert "X-Aws-Ec2-Metadata-Token" not in headers
    assert "falling back to IMDSv1" in s.sink.text()


def test_aws_waits_for_token_service(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/latest/api/token", method="PUT").respond_with_handler(
        flaky(503, 500, then=AWS_TOKEN.encode()))
    httpserver.expect_request("/2019-10-01/user-data", headers={"X-aws-ec2-metadata-token": AWS_TOKEN}
                              ).respond_with_data(CONFIG)
    s = setup_for(tmp_path, httpserver, "aws")
    assert AwsProvider().fetch_config(s.ctx) == CONFIG
    assert len(httpserver.log) == 4
    assert "waiting for the AWS instance metadata service" in s.sink.text()


def test_aws_no_user_data(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/latest/api/token", method="PUT").respond_with_data(AWS_TOKEN)
    httpserver.expect_request("/2019-10-01/user-data").respond_with_data(b"", status=404)
    s = setup_for(tmp_path, httpserver, "aws")
    assert AwsProvider().fetch_config(s.ctx) is None


def test_aws_token_server_error_status(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/latest/api/token", method="PUT").respond_with_data(b"", status=400)
    s = setup_for(tmp_path, httpserver, "aws")
    with pytest.raises(FetchError, match=r"IMDSv2 token request .* HTTP 400"):
        AwsProvider().fetch_config(s.ctx)


# akamai


AKAMAI_TOKEN = "akamai-SECRET-token-1234"


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_akamai_token_and_user_data(tmp_path: Path, httpserver: HTTPServer, compress: bool) -> None:
    payload = gzip.compress(CONFIG) if compress else CONFIG
    httpserver.expect_ordered_request(
        "/v1/token", method="PUT", headers={"Metadata-Token-Expiry-Seconds": "300", "Accept": "text/plain"}
    ).respond_with_data(AKAMAI_TOKEN + "\n")
    httpserver.expect_ordered_request(
        "/v1/user-data", method="GET", headers={"Metadata-Token": AKAMAI_TOKEN, "Accept": "*/*"}
    ).respond_with_data(base64.b64encode(payload))
    s = setup_for(tmp_path, httpserver, "akamai")
    assert AkamaiProvider().fetch_config(s.ctx) == CONFIG
    httpserver.check_assertions()
    assert AKAMAI_TOKEN not in s.sink.text()


def test_akamai_token_refused(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/token", method="PUT").respond_with_data(b"", status=403)
    s = setup_for(tmp_path, httpserver, "akamai")
    with pytest.raises(FetchError, match=r"token request .* HTTP 403"):
        AkamaiProvider().fetch_config(s.ctx)


def test_akamai_no_user_data(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/token", method="PUT").respond_with_data(AKAMAI_TOKEN)
    httpserver.expect_request("/v1/user-data").respond_with_data(b"", status=404)
    s = setup_for(tmp_path, httpserver, "akamai")
    assert AkamaiProvider().fetch_config(s.ctx) is None


# azure


AZURE_PATH = "/metadata/instance/compute/userData"
AZURE_QUERY = "api-version=2021-01-01&format=text"


def test_azure_imds_user_data(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(AZURE_PATH, method="GET", query_string=AZURE_QUERY, headers={"Metadata": "true"}
                              ).respond_with_data(base64.b64encode(CONFIG))
    s = setup_for(tmp_path, httpserver, "azure")
    assert AzureProvider().fetch_config(s.ctx) == CONFIG
    httpserver.check_assertions()


def test_azure_imds_retries_404_410_429(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(AZURE_PATH).respond_with_handler(
        flaky(404, 410, 429, then=base64.b64encode(CONFIG)))
    s = setup_for(tmp_path, httpserver, "azure", fetch_timeout=10.0)
    assert AzureProvider().fetch_config(s.ctx) == CONFIG
    assert len(httpserver.log) == 4


def test_azure_empty_imds_falls_back_to_ovf_custom_data(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(AZURE_PATH).respond_with_data(b"")
    s = setup_for(tmp_path, httpserver, "azure")
    s.drive("sr0", {"README": b"another CD"})
    s.drive("sr1", {"ovf-env.xml": b"<Environment/>", "CustomData.bin": CONFIG})
    assert AzureProvider().fetch_config(s.ctx) == CONFIG
    assert "trying the OVF custom data" in s.sink.text()


def test_azure_ovf_without_custom_data_is_no_config(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(AZURE_PATH).respond_with_data(b"")
    s = setup_for(tmp_path, httpserver, "azure")
    s.drive("sr0", {"ovf-env.xml": b"<Environment/>"})
    assert AzureProvider().fetch_config(s.ctx) is None


def test_azure_no_cdrom_is_an_error_naming_it(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(AZURE_PATH).respond_with_data(b"")
    s = setup_for(tmp_path, httpserver, "azure", fetch_timeout=1.5)
    with pytest.raises(FetchError, match=r"provisioning CD-ROM \(udf with ovf-env.xml\).*no CD-ROM drive"):
        AzureProvider().fetch_config(s.ctx)


def test_azurestack_mounts_cdroms_read_only(tmp_path: Path) -> None:
    s = Setup(tmp_path, drives=False)
    s.dev.mkdir()
    for name in ("sr0", "sr1"):
        (s.dev / name).write_bytes(b"")
    image = tmp_path / "image"
    image.mkdir()
    (image / "ovf-env.xml").write_bytes(b"<Environment/>")
    (image / "CustomData.bin").write_bytes(CONFIG)
    s.runner.images = {str(s.dev / "sr1"): image}  # sr0 has no disc: its mount fails
    assert AzureStackProvider().fetch_config(s.ctx) == CONFIG
    mounts = [c for c in s.runner.calls if c[0] == "mount"]
    assert [c[:5] for c in mounts] == [["mount", "-o", "ro", "-t", "udf,iso9660"]] * 2
    assert [c[5] for c in mounts] == [str(s.dev / "sr0"), str(s.dev / "sr1")]
    mnt = mounts[1][6]
    assert ["umount", mnt] in s.runner.calls
    assert not Path(mnt).exists()


def test_azurestack_never_uses_the_network(tmp_path: Path) -> None:
    s = Setup(tmp_path, offline=True)
    s.drive("cd", {"ovf-env.xml": b"<Environment/>", "CustomData.bin": CONFIG})
    assert AzureStackProvider().fetch_config(s.ctx) == CONFIG


def test_azure_offline_needs_network(tmp_path: Path) -> None:
    s = Setup(tmp_path, offline=True)
    with pytest.raises(NeedsNetwork):
        AzureProvider().fetch_config(s.ctx)


# openstack, brightbox, cloudstack: config drive or metadata service


OPENSTACK_PATH = "/openstack/latest/user_data"


@pytest.mark.parametrize("cls", [OpenStackProvider, BrightboxProvider])
@pytest.mark.parametrize("label", ["config-2", "CONFIG-2"])
def test_openstack_config_drive_wins(tmp_path: Path, httpserver: HTTPServer, cls: type[OpenStackProvider],
                                     label: str) -> None:
    s = setup_for(tmp_path, httpserver, cls.name)
    s.drive(label, {OPENSTACK_PATH: CONFIG})
    assert cls().fetch_config(s.ctx) == CONFIG
    assert httpserver.log == []


@pytest.mark.parametrize("cls", [OpenStackProvider, BrightboxProvider])
def test_openstack_metadata_service(tmp_path: Path, httpserver: HTTPServer, cls: type[OpenStackProvider]) -> None:
    httpserver.expect_request(OPENSTACK_PATH, method="GET").respond_with_handler(flaky(503))
    s = setup_for(tmp_path, httpserver, cls.name)
    assert cls().fetch_config(s.ctx) == CONFIG
    assert [(m, p) for m, p, _ in requests_seen(httpserver)] == [("GET", OPENSTACK_PATH)] * 2


def test_openstack_404_is_no_config(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(OPENSTACK_PATH).respond_with_data(b"", status=404)
    s = setup_for(tmp_path, httpserver, "openstack")
    assert OpenStackProvider().fetch_config(s.ctx) is None


def test_openstack_drive_without_user_data_is_no_config(tmp_path: Path, httpserver: HTTPServer) -> None:
    s = setup_for(tmp_path, httpserver, "openstack")
    s.drive("config-2", {"/openstack/latest/meta_data.json": b"{}"})
    assert OpenStackProvider().fetch_config(s.ctx) is None


def test_openstack_offline(tmp_path: Path, httpserver: HTTPServer) -> None:
    s = setup_for(tmp_path, httpserver, "openstack", offline=True)
    with pytest.raises(NeedsNetwork, match="resource requires networking"):
        OpenStackProvider().fetch_config(s.ctx)
    s.drive("config-2", {OPENSTACK_PATH: CONFIG})
    assert OpenStackProvider().fetch_config(s.ctx) == CONFIG  # a drive needs no network
    assert httpserver.log == []


def test_openstack_gives_up_naming_both_sources(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(OPENSTACK_PATH).respond_with_data(b"", status=500)
    s = setup_for(tmp_path, httpserver, "openstack", fetch_timeout=0.7)
    with pytest.raises(FetchError, match="config drive labelled config-2 or CONFIG-2 or the OpenStack metadata"):
        OpenStackProvider().fetch_config(s.ctx)


def test_cloudstack_config_drive(tmp_path: Path, httpserver: HTTPServer) -> None:
    s = setup_for(tmp_path, httpserver, "cloudstack")
    s.drive("config-2", {"/cloudstack/userdata/user_data.txt": CONFIG})
    assert CloudStackProvider().fetch_config(s.ctx) == CONFIG
    assert httpserver.log == []


def test_cloudstack_metadata_service(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/latest/user-data", method="GET").respond_with_handler(flaky(502))
    s = setup_for(tmp_path, httpserver, "cloudstack")
    assert CloudStackProvider().fetch_config(s.ctx) == CONFIG
    httpserver.expect_request("/latest/user-data").respond_with_data(b"", status=404)


def test_cloudstack_dhcp_server_from_networkd_leases(tmp_path: Path) -> None:
    assert dhcp_server(str(tmp_path / "absent")) is None
    leases = tmp_path / "leases"
    leases.mkdir()
    (leases / "1").write_text("# no server here\nADDRESS=10.1.1.5\n")
    assert dhcp_server(str(leases)) is None
    (leases / "2").write_text("ADDRESS=10.1.1.5\nSERVER_ADDRESS=10.1.1.1\nROUTER=10.1.1.1\n")
    assert dhcp_server(str(leases)) == "10.1.1.1"


# config drives only


DRIVE_ONLY: list[tuple[type[Provider], str, str]] = [
    (IbmCloudProvider, "cidata", "/user-data"),
    (NutanixProvider, "config-2", OPENSTACK_PATH),
    (PowerVSProvider, "config-2", OPENSTACK_PATH),
    (KubeVirtProvider, "cidata", "/user-data"),
    (KubeVirtProvider, "config-2", OPENSTACK_PATH),
    (ProxmoxVEProvider, "cidata", "/user-data"),
]


@pytest.mark.parametrize(("cls", "label", "path"), DRIVE_ONLY, ids=[f"{c.name}-{lbl}" for c, lbl, _ in DRIVE_ONLY])
def test_config_drive_user_data(tmp_path: Path, cls: type[Provider], label: str, path: str) -> None:
    s = Setup(tmp_path, offline=True)  # config drives never need the network
    s.drive("unrelated", {path: b"wrong drive"})
    s.drive(label, {path: CONFIG})
    assert cls().fetch_config(s.ctx) == CONFIG


@pytest.mark.parametrize(("cls", "label", "path"), DRIVE_ONLY, ids=[f"{c.name}-{lbl}" for c, lbl, _ in DRIVE_ONLY])
def test_config_drive_without_file_is_no_config(tmp_path: Path, cls: type[Provider], label: str, path: str) -> None:
    s = Setup(tmp_path)
    s.drive(label, {"/meta-data": b"instance-id: x\n"})
    assert cls().fetch_config(s.ctx) is None


def test_config_drive_that_never_appears_is_no_config(tmp_path: Path) -> None:
    s = Setup(tmp_path, fetch_timeout=1.5)
    assert IbmCloudProvider().fetch_config(s.ctx) is None
    text = s.sink.text()
    assert "waiting for a config drive labelled cidata" in text
    assert "continuing without a config" in text


def test_config_drive_appearing_late_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = Setup(tmp_path, fetch_timeout=10.0)
    real_sleep = time.sleep
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            s.drive("config-2", {OPENSTACK_PATH: CONFIG})
        real_sleep(0.01)

    monkeypatch.setattr(time, "sleep", sleep)  # the Waiter takes time.sleep when it is made
    assert NutanixProvider().fetch_config(s.ctx) == CONFIG
    assert sleeps == [1.0, 1.0]  # Ignition polls for config drives every second


def test_config_drive_mounted_read_only_and_unmounted(tmp_path: Path) -> None:
    s = Setup(tmp_path, drives=False)
    by_label = s.dev / "disk/by-label"
    by_label.mkdir(parents=True)
    (by_label / "cidata").write_bytes(b"")
    image = tmp_path / "image"
    image.mkdir()
    (image / "user-data").write_bytes(CONFIG)
    device = str(by_label / "cidata")
    s.runner.images = {device: image}
    assert IbmCloudProvider().fetch_config(s.ctx) == CONFIG
    [mount, umount] = s.runner.calls
    assert mount[:6] == ["mount", "-o", "ro", "-t", "auto", device]
    assert umount == ["umount", mount[6]]
    assert not Path(mount[6]).exists()


def test_config_drive_mount_failure_names_the_device(tmp_path: Path) -> None:
    s = Setup(tmp_path, drives=False)
    by_label = s.dev / "disk/by-label"
    by_label.mkdir(parents=True)
    (by_label / "config-2").write_bytes(b"")
    with pytest.raises(FetchError, match=r"mounting the config drive .*config-2 read-only: mount exited"):
        PowerVSProvider().fetch_config(s.ctx)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"/user-data": CONFIG, "/vendor-data": b'{"vendor": 1}'}, CONFIG),
        ({"/user-data": b"#cloud-config\nusers: []\n", "/vendor-data": CONFIG}, CONFIG),
        ({"/user-data": b"not json", "/vendor-data": CONFIG}, CONFIG),
        ({"/vendor-data": CONFIG}, CONFIG),
        ({"/user-data": b"#cloud-config\n", "/vendor-data": b"#cloud-config\n"}, None),
        ({"/user-data": b"#cloud-config\n"}, None),
    ],
    ids=["user-data", "cloud-config-user-data", "non-json-user-data", "vendor-data-only", "both-cloud-config",
         "cloud-config-only"],
)
def test_proxmoxve_falls_back_to_vendor_data(tmp_path: Path, files: dict[str, bytes], expected: bytes | None) -> None:
    s = Setup(tmp_path)
    s.drive("cidata", files)
    assert ProxmoxVEProvider().fetch_config(s.ctx) == expected


# platforms without their mechanism


@pytest.mark.parametrize(
    ("platform", "mechanism"),
    [
        ("vmware", "guestinfo RPC"),
        ("virtualbox", "VBoxGuest"),
        ("hyperv", "KVP daemon pool"),
        ("zvm", "vmur spool reader"),
        ("applehv", "vsock"),
        ("nvidiabluefield", "bootfifo"),
    ],
)
def test_unavailable_platforms_name_what_is_missing(tmp_path: Path, platform: str, mechanism: str,
                                                    connections: list[str]) -> None:
    provider = registry.providers().get(platform)()
    s = Setup(tmp_path)
    with pytest.raises(FetchError) as exc:
        provider.fetch_config(s.ctx)
    message = str(exc.value)
    assert message.startswith(f"platform {platform} needs ")
    assert mechanism in message
    assert "which is not available in this build" in message
    assert connections == []


# registration and default addresses


INVENTORY_IDS = [
    "akamai", "aliyun", "applehv", "aws", "azure", "azurestack", "brightbox", "cloudstack", "digitalocean",
    "exoscale", "file", "gcp", "hetzner", "hyperv", "ibmcloud", "kubevirt", "metal", "nutanix",
    "nvidiabluefield", "openstack", "oraclecloud", "packet", "powervs", "proxmoxve", "qemu", "scaleway",
    "upcloud", "virtualbox", "vmware", "vultr", "zvm",
]


def test_every_ignition_platform_is_registered() -> None:
    reg = registry.providers()
    assert reg.names() == INVENTORY_IDS
    for name in INVENTORY_IDS:
        assert reg.get(name).name == name


class AnyPath(URIPattern):
    def match(self, uri: str) -> bool:
        return True


# (platform, what the provider reaches with no override); every default is
# refused by the guard before it leaves the machine.
DEFAULTS = [
    ("aws", "169.254.169.254:80"),
    ("gcp", "169.254.169.254:80"),
    ("azure", "169.254.169.254:80"),
    ("digitalocean", "169.254.169.254:80"),
    ("hetzner", "169.254.169.254:80"),
    ("vultr", "169.254.169.254:80"),
    ("exoscale", "169.254.169.254:80"),
    ("upcloud", "169.254.169.254:80"),
    ("oraclecloud", "169.254.169.254:80"),
    ("akamai", "169.254.169.254:80"),
    ("openstack", "169.254.169.254:80"),
    ("brightbox", "169.254.169.254:80"),
    ("aliyun", "100.100.100.200:80"),
    ("scaleway", "169.254.42.42:80"),
    ("packet", "dns:metadata.packet.net"),
    ("cloudstack", "192.0.2.10:80"),  # the DHCP server of the networkd lease written below
]


@pytest.mark.parametrize(("platform", "default"), DEFAULTS, ids=[p for p, _ in DEFAULTS])
def test_default_address_only_without_override(tmp_path: Path, httpserver: HTTPServer, platform: str,
                                               default: str, connections: list[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    provider = registry.providers().get(platform)()
    # openstack's IPv6 address is scoped to an interface: make it the loopback
    # one, so even a guard that let it through would reach nothing.
    monkeypatch.setattr(openstack, "ipv6_interface", lambda: "lo")
    httpserver.expect_request(AnyPath(), method="PUT").respond_with_data(b"token")
    httpserver.expect_request(AnyPath()).respond_with_data(b"", status=404)

    overridden = Setup(tmp_path / "with", urls={platform: server_url(httpserver)}, fetch_timeout=2.0)
    if platform == "azure":  # IMDS 404 is retried: give it an answer that ends the wait
        httpserver.clear()
        httpserver.expect_request(AnyPath()).respond_with_data(b"")
        overridden.drive("sr0", {"ovf-env.xml": b"<Environment/>"})
    assert provider.fetch_config(overridden.ctx) is None
    assert connections, "the override was not used"
    assert all(c.startswith(("127.0.0.1:", "::1:")) for c in connections), connections
    connections.clear()

    plain = Setup(tmp_path / "without", fetch_timeout=0.3)
    plain.leases.mkdir()
    (plain.leases / "2").write_text("ADDRESS=192.0.2.20\nSERVER_ADDRESS=192.0.2.10\n")
    with pytest.raises(FetchError):
        provider.fetch_config(plain.ctx)
    assert connections, "no connection attempted"
    if platform in ("openstack", "brightbox"):
        assert set(connections) == {default, "fe80::a9fe:a9fe:80"}, plain.sink.text()
    else:
        assert set(connections) == {default}


def test_metadata_urls_from_environment(tmp_path: Path) -> None:
    env = Environment.from_environ({
        "IGNITION_METADATA_URL_AWS": "http://127.0.0.1:8080",
        "IGNITION_METADATA_URL_ORACLECLOUD": "http://127.0.0.1:8081/",
        "IGNITION_METADATA_URL_GCP": "",
        "IGNITION_CONFIG_DRIVE_DIR": str(tmp_path),
        "IGNITION_DEV_DIR": "/tmp/dev",
    })
    assert env.metadata_url("aws") == "http://127.0.0.1:8080"
    assert env.metadata_url("oraclecloud") == "http://127.0.0.1:8081/"
    assert env.metadata_url("gcp") is None
    assert env.metadata_url("azure") is None
    assert env.config_drive_dir == str(tmp_path)
    assert env.dev_dir == "/tmp/dev"
    defaults = Environment.from_environ({})
    assert defaults.metadata_urls == ()
    assert defaults.config_drive_dir is None
    assert defaults.dev_dir == "/dev"


def test_azure_imds_never_answering_falls_back_to_ovf(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request(AZURE_PATH).respond_with_data(b"down", status=503)
    s = setup_for(tmp_path, httpserver, "azure", fetch_timeout=0.7)
    s.drive("sr0", {"ovf-env.xml": b"<Environment/>", "CustomData.bin": CONFIG})
    assert AzureProvider().fetch_config(s.ctx) == CONFIG
    assert "gave up waiting for the Azure instance metadata service" in s.sink.text()


# openstack over IPv4 and IPv6 at once: the first answer wins


def threaded_server(host: str) -> Any:
    # Threaded: a slow answer left over from a lost race must not hold up the next request.
    server = HTTPServer(host=host, port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def v4() -> Any:
    yield from threaded_server("127.0.0.1")


@pytest.fixture
def httpserver_v6() -> Any:
    yield from threaded_server("::1")


def v6_url(server: HTTPServer) -> str:
    return f"http://[::1]:{server.port}"


def slow(seconds: float, status: int = 200, body: bytes = CONFIG) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        time.sleep(seconds)
        return Response(body, status=status)

    return handler


def openstack_both(tmp_path: Path, v4: HTTPServer, v6: HTTPServer, **kwargs: Any) -> Setup:
    return Setup(tmp_path, urls={"openstack": server_url(v4), "openstack-ipv6": v6_url(v6)}, **kwargs)


def test_openstack_ipv6_answers_while_ipv4_is_silent(tmp_path: Path, v4: HTTPServer,
                                                     httpserver_v6: HTTPServer, connections: list[str]) -> None:
    v4.expect_request(OPENSTACK_PATH).respond_with_handler(slow(3.0))
    httpserver_v6.expect_request(OPENSTACK_PATH).respond_with_data(CONFIG)
    s = openstack_both(tmp_path, v4, httpserver_v6)
    start = time.monotonic()
    assert OpenStackProvider().fetch_config(s.ctx) == CONFIG
    assert time.monotonic() - start < 2.0  # the silent IPv4 address was not waited for
    assert f"answered first at {v6_url(httpserver_v6)}{OPENSTACK_PATH}" in s.sink.text()
    assert {c.rsplit(":", 1)[0] for c in connections} == {"127.0.0.1", "::1"}


def test_openstack_ipv4_answers_while_ipv6_is_silent(tmp_path: Path, v4: HTTPServer,
                                                     httpserver_v6: HTTPServer) -> None:
    v4.expect_request(OPENSTACK_PATH).respond_with_data(CONFIG)
    httpserver_v6.expect_request(OPENSTACK_PATH).respond_with_handler(slow(3.0))
    s = openstack_both(tmp_path, v4, httpserver_v6)
    start = time.monotonic()
    assert OpenStackProvider().fetch_config(s.ctx) == CONFIG
    assert time.monotonic() - start < 2.0


def test_openstack_a_5xx_is_no_answer_the_other_address_wins(tmp_path: Path, v4: HTTPServer,
                                                              httpserver_v6: HTTPServer) -> None:
    v4.expect_request(OPENSTACK_PATH).respond_with_data(b"busy", status=503)
    httpserver_v6.expect_request(OPENSTACK_PATH).respond_with_handler(slow(0.3))
    s = openstack_both(tmp_path, v4, httpserver_v6)
    assert OpenStackProvider().fetch_config(s.ctx) == CONFIG
    assert len(v4.log) == 1 and len(httpserver_v6.log) == 1


def test_openstack_404_at_either_address_is_no_config(tmp_path: Path, v4: HTTPServer,
                                                      httpserver_v6: HTTPServer) -> None:
    v4.expect_request(OPENSTACK_PATH).respond_with_handler(slow(3.0))
    httpserver_v6.expect_request(OPENSTACK_PATH).respond_with_data(b"", status=404)
    s = openstack_both(tmp_path, v4, httpserver_v6)
    assert OpenStackProvider().fetch_config(s.ctx) is None


def test_openstack_both_failing_are_retried_and_named(tmp_path: Path, v4: HTTPServer,
                                                      httpserver_v6: HTTPServer) -> None:
    v4.expect_request(OPENSTACK_PATH).respond_with_data(b"", status=500)
    httpserver_v6.expect_request(OPENSTACK_PATH).respond_with_data(b"", status=502)
    s = openstack_both(tmp_path, v4, httpserver_v6, fetch_timeout=0.7)
    with pytest.raises(FetchError) as err:
        OpenStackProvider().fetch_config(s.ctx)
    assert f"{server_url(v4)}{OPENSTACK_PATH}: HTTP 500" in str(err.value)
    assert f"{v6_url(httpserver_v6)}{OPENSTACK_PATH}: HTTP 502" in str(err.value)
    assert len(v4.log) >= 2 and len(httpserver_v6.log) >= 2


def test_openstack_offline_names_both_addresses(tmp_path: Path, v4: HTTPServer,
                                                httpserver_v6: HTTPServer) -> None:
    s = openstack_both(tmp_path, v4, httpserver_v6, offline=True)
    with pytest.raises(NeedsNetwork, match=r"127\.0\.0\.1.* or http://\[::1\]"):
        OpenStackProvider().fetch_config(s.ctx)


def test_ipv6_interface_is_the_first_up_non_loopback_one(tmp_path: Path) -> None:
    inet6 = tmp_path / "if_inet6"
    inet6.write_text(
        "00000000000000000000000000000001 01 80 10 80       lo\n"
        "fe8000000000000000fc00fffe000003 04 40 20 80     eth2\n"
        "fe8000000000000000fc00fffe000001 02 40 20 80     eth0\n"
        "fe8000000000000000fc00fffe000002 03 40 20 80     eth1\n"
    )
    net = tmp_path / "net"
    for name, flags in (("lo", "0x9"), ("eth0", "0x1002"), ("eth1", "0x1003"), ("eth2", "0x1003")):
        (net / name).mkdir(parents=True)
        (net / name / "flags").write_text(flags + "\n")
    from ignition.providers.openstack import ipv6_interface

    assert ipv6_interface(str(inet6), str(net)) == "eth1"  # eth0 is down, lo a loopback
    assert ipv6_interface(str(tmp_path / "missing"), str(net)) is None


def test_scoped_ipv6_urls_reach_connect_with_their_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    from ignition.providers.metadata import attempt, zone_of

    seen: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        seen.append(address)
        raise ConnectionRefusedError(errno.ECONNREFUSED, "test: refused")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    url = "http://[fe80::a9fe:a9fe%25lo]/openstack/latest/user_data"
    assert zone_of(url) == "lo"
    assert zone_of("http://[::1]:80/") is None and zone_of("http://127.0.0.1/?a=%25") is None
    assert attempt("GET", url, {}, 1.0) == "ConnectionRefusedError: test: refused"
    assert seen == [("fe80::a9fe:a9fe", 80, 0, socket.if_nametoindex("lo"))]
