"""ignition/providers/ and ignition/acquire.py: where the machine's config
comes from, and in which order of precedence."""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest

from ignition import log
from ignition.acquire import Acquired, acquire, empty_config
from ignition.context import ProviderContext
from ignition.environment import Environment
from ignition.errors import ConfigError, FetchError, NeedsNetwork
from ignition.log import Logger
from ignition.providers import cmdline, system
from ignition.providers.file import FileProvider
from ignition.providers.metal import MetalProvider
from ignition.providers.qemu import QemuProvider
from ignition.resources.fetcher import Fetcher
from ignition.run import Result, Runner
from ignition.state import FetchedConfig


class ListSink:
    def __init__(self) -> None:
        self.entries: list[tuple[int, str, dict[str, str]]] = []

    def emit(self, priority: int, message: str, fields: Mapping[str, str]) -> None:
        self.entries.append((priority, message, dict(fields)))

    def text(self) -> str:
        return "\n".join(f"{m} {f}" for _, m, f in self.entries)


class FakeRunner(Runner):
    """Records each argv and succeeds without running anything."""

    def __init__(self, logger: Logger) -> None:
        super().__init__(logger)
        self.calls: list[list[str]] = []

    def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        probe: bool = False,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        secret_input: bool = False,
    ) -> Result:
        self.calls.append(list(argv))
        return Result(tuple(argv), 0, b"", b"")


class FakeProvider:
    name: ClassVar[str] = "fake"

    def __init__(self, config: bytes | None) -> None:
        self.config = config
        self.calls = 0

    def fetch_config(self, ctx: ProviderContext) -> bytes | None:
        self.calls += 1
        return self.config


class Setup:
    """A ProviderContext whose every path is under tmp_path."""

    def __init__(self, tmp_path: Path, offline: bool = False, platform: str = "fake") -> None:
        self.tmp = tmp_path
        self.sink = ListSink()
        self.logger = Logger(self.sink, stage="fetch", platform=platform)
        self.runner = FakeRunner(self.logger)
        self.env = Environment(
            cmdline_path=str(tmp_path / "cmdline"),
            config_file=str(tmp_path / "config.ign"),
            system_config_dir=str(tmp_path / "usr/lib/ignition"),
            system_local_config_dir=str(tmp_path / "etc/ignition"),
            system_runtime_config_dir=str(tmp_path / "run/ignition"),
            fw_cfg_dir=str(tmp_path / "fw_cfg/opt/com.coreos/config"),
            boot_id_path=str(tmp_path / "boot_id"),
        )
        self.ctx = ProviderContext(
            platform=platform,
            logger=self.logger,
            run=self.runner,
            fetcher=Fetcher(self.logger, offline=offline),
            env=self.env,
            fetch_timeout=10.0,
        )

    def cmdline(self, text: str) -> None:
        Path(self.env.cmdline_path).write_text(text)

    def user_ign(self, directory: str, data: bytes) -> str:
        path = Path(directory) / "user.ign"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return str(path)


def config_with_file(path: str, version: str = "3.4.0") -> bytes:
    """A small config whose one file path tells the configs apart."""
    return json.dumps({"ignition": {"version": version}, "storage": {"files": [{"path": path}]}}).encode()


def data_url(data: bytes) -> str:
    return "data:," + urllib.parse.quote(data)


def file_paths(acquired: Acquired) -> list[str]:
    return [f.path for f in acquired.config.storage.files]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


# file


def test_file_provider_reads_config_file(setup: Setup) -> None:
    Path(setup.env.config_file).write_bytes(b'{"ignition":{"version":"3.6.0"}}')
    assert FileProvider().fetch_config(setup.ctx) == b'{"ignition":{"version":"3.6.0"}}'


def test_file_provider_path_comes_from_ignition_config_file(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.ign").write_bytes(b"{}")
    env = Environment.from_environ({"IGNITION_CONFIG_FILE": str(tmp_path / "elsewhere.ign")})
    assert env.config_file == str(tmp_path / "elsewhere.ign")
    s = Setup(tmp_path)
    ctx = ProviderContext("file", s.logger, s.runner, s.ctx.fetcher, env, 10.0)
    assert FileProvider().fetch_config(ctx) == b"{}"


def test_file_provider_missing_file(setup: Setup) -> None:
    with pytest.raises(FetchError) as exc:
        FileProvider().fetch_config(setup.ctx)
    message = str(exc.value)
    assert setup.env.config_file in message
    assert "IGNITION_CONFIG_FILE" in message
    assert "No such file or directory" in message


# metal


def test_metal_provider_has_no_config(setup: Setup) -> None:
    assert MetalProvider().fetch_config(setup.ctx) is None
    assert setup.runner.calls == []


# qemu


def make_fw_cfg(setup: Setup, data: bytes, size: str | None = None) -> Path:
    d = Path(setup.env.fw_cfg_dir)
    d.mkdir(parents=True)
    (d / "raw").write_bytes(data)
    if size is not None:
        (d / "size").write_text(size)
    return d


def test_qemu_without_fw_cfg_loads_module_and_returns_none(setup: Setup,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IGNITION_TOOL_MODPROBE", raising=False)
    assert QemuProvider().fetch_config(setup.ctx) is None
    assert setup.runner.calls == [["modprobe", "qemu_fw_cfg"]]


def test_qemu_modprobe_honours_tool_override(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IGNITION_TOOL_MODPROBE", "/sbin/modprobe")
    assert QemuProvider().fetch_config(setup.ctx) is None
    assert setup.runner.calls == [["/sbin/modprobe", "qemu_fw_cfg"]]


def test_qemu_reads_fw_cfg(setup: Setup) -> None:
    config = b'{"ignition":{"version":"3.6.0"}}'
    make_fw_cfg(setup, config, size=f"{len(config)}\n")
    assert QemuProvider().fetch_config(setup.ctx) == config
    assert setup.runner.calls == []


@pytest.mark.parametrize("size", [None, "", "garbage", "3"])
def test_qemu_reads_whole_config_whatever_size_says(setup: Setup, size: str | None) -> None:
    config = b'{"ignition":{"version":"3.6.0"}}' * 100
    make_fw_cfg(setup, config, size=size)
    assert QemuProvider().fetch_config(setup.ctx) == config


def counting_reads(monkeypatch: pytest.MonkeyPatch, target: Path) -> list[int]:
    """Wrap os.read; return a list that gets the size of each read on `target`."""
    real_read: Callable[[int, int], bytes] = os.read
    reads: list[int] = []

    def read(fd: int, n: int) -> bytes:
        if os.path.realpath(f"/proc/self/fd/{fd}") == os.path.realpath(target):
            reads.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", read)
    return reads


def test_qemu_large_config_read_in_large_chunks(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    config = (b'{"ignition":{"version":"3.6.0"},"x":"' + b"a" * (10 << 20) + b'"}')
    d = make_fw_cfg(setup, config, size=str(len(config)))
    reads = counting_reads(monkeypatch, d / "raw")
    assert QemuProvider().fetch_config(setup.ctx) == config
    assert 1 <= len(reads) <= 2, reads


# cmdline parsing


def test_cmdline_parse() -> None:
    text = 'BOOT_IMAGE=/vmlinuz root=UUID=abc ro quiet  console="ttyS0,115200 n8" empty= "x=a b"\n'
    assert cmdline.parse(text) == [
        ("BOOT_IMAGE", "/vmlinuz"),
        ("root", "UUID=abc"),
        ("ro", None),
        ("quiet", None),
        ("console", "ttyS0,115200 n8"),
        ("empty", ""),
        ("x", "a b"),
    ]


def test_cmdline_parse_whitespace_only() -> None:
    assert cmdline.parse("") == []
    assert cmdline.parse(" \t\n") == []


def test_cmdline_lookup_last_occurrence_wins() -> None:
    text = "ignition.config.url=data:,first quiet ignition.config.url=data:,second"
    assert cmdline.lookup(text, "ignition.config.url") == "data:,second"


def test_cmdline_lookup_quoted_value() -> None:
    assert cmdline.lookup('a=1 k="v with spaces" b=2', "k") == "v with spaces"


def test_cmdline_lookup_keys_without_value() -> None:
    text = "quiet ro k=1 k"
    assert cmdline.lookup(text, "quiet") is None
    assert cmdline.lookup(text, "ro") is None
    assert cmdline.lookup(text, "absent") is None
    assert cmdline.lookup(text, "k") == "1"  # a bare `k` sets no value
    assert cmdline.lookup("k=", "k") == ""


def test_cmdline_lookup_needs_exact_key() -> None:
    text = "xignition.config.url=data:,a ignition.config.urlx=data:,b"
    assert cmdline.lookup(text, "ignition.config.url") is None


# cmdline.fetch_config


def test_cmdline_fetch_without_cmdline_file(setup: Setup) -> None:
    assert cmdline.fetch_config(setup.ctx) is None


def test_cmdline_fetch_without_config_keys(setup: Setup) -> None:
    setup.cmdline("root=/dev/vda1 ro quiet\n")
    assert cmdline.fetch_config(setup.ctx) is None


def test_cmdline_fetch_ignition_config_url(setup: Setup) -> None:
    url = data_url(b'{"a": 1}')
    setup.cmdline(f"root=/dev/vda1 ignition.config.url={url} quiet\n")
    assert cmdline.fetch_config(setup.ctx) == (b'{"a": 1}', "cmdline")


def test_cmdline_fetch_coreos_config_url(setup: Setup) -> None:
    setup.cmdline("coreos.config.url=data:,coreos\n")
    assert cmdline.fetch_config(setup.ctx) == (b"coreos", "cmdline")


@pytest.mark.parametrize(
    "text",
    [
        "ignition.config.url=data:,ignition coreos.config.url=data:,coreos",
        "coreos.config.url=data:,coreos ignition.config.url=data:,ignition",
    ],
)
def test_cmdline_ignition_url_beats_coreos_url(setup: Setup, text: str) -> None:
    setup.cmdline(text)
    assert cmdline.fetch_config(setup.ctx) == (b"ignition", "cmdline")


def test_cmdline_data_url_is_not_logged(setup: Setup) -> None:
    setup.cmdline("ignition.config.url=data:,topsecretpayload\n")
    assert cmdline.fetch_config(setup.ctx) == (b"topsecretpayload", "cmdline")
    assert "topsecretpayload" not in setup.sink.text()


def test_cmdline_http_url_offline_needs_network_without_secrets(tmp_path: Path) -> None:
    s = Setup(tmp_path, offline=True)
    s.cmdline("ignition.config.url=https://core:hunter2@example.com/c.ign?token=s3cr3tv4lue&sig=abcdef99\n")
    with pytest.raises(NeedsNetwork) as exc:
        cmdline.fetch_config(s.ctx)
    message = str(exc.value)
    assert "example.com" in message
    for secret in ("hunter2", "s3cr3tv4lue", "abcdef99"):
        assert secret not in message
        assert secret not in s.sink.text()


def device_setup(tmp_path: Path, files: dict[str, bytes]) -> Setup:
    """A Setup whose config drives are stand-in directories: tmp/drives/<label>/<path>."""
    s = Setup(tmp_path)
    drives = tmp_path / "drives"
    for rel, data in files.items():
        (drives / rel).parent.mkdir(parents=True, exist_ok=True)
        (drives / rel).write_bytes(data)
    drives.mkdir(exist_ok=True)
    s.env = replace(s.env, config_drive_dir=str(drives))
    s.ctx = replace(s.ctx, env=s.env)
    return s


def test_cmdline_config_from_a_labelled_device(tmp_path: Path) -> None:
    s = device_setup(tmp_path, {"IGNCONFIG/ignition/config.ign": b'{"dev": 1}'})
    s.cmdline("ignition.config.device=IGNCONFIG ignition.config.path=/ignition/config.ign\n")
    assert cmdline.fetch_config(s.ctx) == (b'{"dev": 1}', "cmdline")
    assert "reading the config /ignition/config.ign from the filesystem labelled IGNCONFIG" in s.sink.text()


def test_cmdline_config_path_cannot_climb_out_of_the_device(tmp_path: Path) -> None:
    s = device_setup(tmp_path, {"IGNCONFIG/config.ign": b"inside", "outside.ign": b"outside"})
    s.cmdline("ignition.config.device=IGNCONFIG ignition.config.path=../../config.ign\n")
    assert cmdline.fetch_config(s.ctx) == (b"inside", "cmdline")


def test_cmdline_url_takes_precedence_over_a_device(tmp_path: Path) -> None:
    s = device_setup(tmp_path, {"IGNCONFIG/config.ign": b"device"})
    s.cmdline("ignition.config.device=IGNCONFIG ignition.config.path=/config.ign ignition.config.url=data:,url\n")
    assert cmdline.fetch_config(s.ctx) == (b"url", "cmdline")
    assert "ignition.config.url takes precedence; ignoring ignition.config.device and ignition.config.path" in (
        s.sink.text())


@pytest.mark.parametrize(("given", "missing"), [
    ("ignition.config.device=IGNCONFIG", "ignition.config.device"),
    ("ignition.config.path=/config.ign", "ignition.config.path"),
    ("ignition.config.device=IGNCONFIG ignition.config.path=", "ignition.config.device"),
])
def test_cmdline_device_and_path_go_together(tmp_path: Path, given: str, missing: str) -> None:
    s = device_setup(tmp_path, {"IGNCONFIG/config.ign": b"device"})
    s.cmdline(given + "\n")
    with pytest.raises(FetchError, match=f"must be given together on the kernel command line .found only {missing}"):
        cmdline.fetch_config(s.ctx)


def test_cmdline_empty_device_and_path_are_not_given(tmp_path: Path) -> None:
    s = device_setup(tmp_path, {})
    s.cmdline("ignition.config.device= ignition.config.path=\n")
    assert cmdline.fetch_config(s.ctx) is None


@pytest.mark.parametrize("label", ["a/b", "..", "."])
def test_cmdline_device_must_be_a_label(tmp_path: Path, label: str) -> None:
    s = device_setup(tmp_path, {})
    s.cmdline(f"ignition.config.device={label} ignition.config.path=/c.ign\n")
    with pytest.raises(FetchError, match="is not a filesystem label"):
        cmdline.fetch_config(s.ctx)


def test_cmdline_device_that_never_appears(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cmdline, "DEVICE_TIMEOUT", 0.5)  # Ignition's 30 s, shortened
    s = device_setup(tmp_path, {"OTHER/config.ign": b"x"})
    s.cmdline("ignition.config.device=IGNCONFIG ignition.config.path=/config.ign\n")
    with pytest.raises(FetchError, match=re.escape("the config device labelled 'IGNCONFIG' (ignition.config.device) "
                                                   "did not appear within 0.5s")):
        cmdline.fetch_config(s.ctx)


def test_cmdline_config_file_missing_on_the_device(tmp_path: Path) -> None:
    s = device_setup(tmp_path, {"IGNCONFIG/other.ign": b"x"})
    s.cmdline("ignition.config.device=IGNCONFIG ignition.config.path=/config.ign\n")
    with pytest.raises(FetchError, match=re.escape("the config file /config.ign (ignition.config.path) is not on "
                                                   "the filesystem labelled 'IGNCONFIG'")):
        cmdline.fetch_config(s.ctx)


# system user.ign


def test_system_config_precedence(setup: Setup) -> None:
    run_dir, etc_dir, usr_dir = setup.env.system_dirs
    assert run_dir.endswith("run/ignition")
    assert etc_dir.endswith("etc/ignition")
    assert usr_dir.endswith("usr/lib/ignition")
    assert system.fetch_config(setup.ctx) is None
    usr = setup.user_ign(usr_dir, b"usr")
    assert system.fetch_config(setup.ctx) == (b"usr", usr)
    etc = setup.user_ign(etc_dir, b"etc")
    assert system.fetch_config(setup.ctx) == (b"etc", etc)
    run = setup.user_ign(run_dir, b"run")
    assert system.fetch_config(setup.ctx) == (b"run", run)
    os.unlink(etc)
    assert system.fetch_config(setup.ctx) == (b"run", run)
    os.unlink(run)
    assert system.fetch_config(setup.ctx) == (b"usr", usr)


def test_system_dirs_from_environment() -> None:
    env = Environment.from_environ({
        "IGNITION_SYSTEM_CONFIG_DIR": "/u",
        "IGNITION_SYSTEM_LOCAL_CONFIG_DIR": "/e",
        "IGNITION_SYSTEM_RUNTIME_CONFIG_DIR": "/r",
    })
    assert env.system_dirs == ("/r", "/e", "/u")


# acquire


def test_acquire_cmdline_beats_user_ign_and_provider(setup: Setup) -> None:
    setup.cmdline(f"ignition.config.url={data_url(config_with_file('/from-cmdline'))}\n")
    setup.user_ign(setup.env.system_runtime_config_dir, config_with_file("/from-system"))
    provider = FakeProvider(config_with_file("/from-provider"))
    acquired = acquire(setup.ctx, provider)
    assert file_paths(acquired) == ["/from-cmdline"]
    assert acquired.fetched == (FetchedConfig("user", "cmdline", False),)
    assert provider.calls == 0


def test_acquire_user_ign_beats_provider(setup: Setup) -> None:
    path = setup.user_ign(setup.env.system_local_config_dir, config_with_file("/from-system"))
    provider = FakeProvider(config_with_file("/from-provider"))
    acquired = acquire(setup.ctx, provider)
    assert file_paths(acquired) == ["/from-system"]
    assert acquired.fetched == (FetchedConfig("user", path, False),)
    assert provider.calls == 0


def test_acquire_provider(setup: Setup) -> None:
    provider = FakeProvider(config_with_file("/from-provider", version="3.0.0"))
    acquired = acquire(setup.ctx, provider)
    assert file_paths(acquired) == ["/from-provider"]
    assert acquired.config.ignition.version == "3.6.0"  # translated to the latest spec
    assert acquired.fetched == (FetchedConfig("user", "fake", False),)
    assert provider.calls == 1
    messages = [m for _, m, _ in setup.sink.entries]
    assert "fetch: op(1): [started]  fetching config from platform fake" in messages


@pytest.mark.parametrize("raw", [None, b""])
def test_acquire_no_config_is_empty_config(setup: Setup, raw: bytes | None) -> None:
    acquired = acquire(setup.ctx, FakeProvider(raw))
    assert acquired.config == empty_config()
    assert acquired.config.ignition.version == "3.6.0"
    assert acquired.config.storage.files == ()
    assert acquired.fetched == ()
    assert not any(f.get("MESSAGE_ID") == log.MSG_CONFIG_FETCHED for _, _, f in setup.sink.entries)


def test_acquire_logs_config_fetched_entry(setup: Setup) -> None:
    path = setup.user_ign(setup.env.system_config_dir, config_with_file("/x"))
    acquire(setup.ctx, FakeProvider(None))
    fetched = [(p, m, f) for p, m, f in setup.sink.entries if f.get("MESSAGE_ID") == log.MSG_CONFIG_FETCHED]
    assert len(fetched) == 1
    priority, message, fields = fetched[0]
    assert log.MSG_CONFIG_FETCHED == "57124006b5c94805b77ce473e92a8aeb"
    assert priority == log.INFO
    assert message == f'fetch: fetched user config from "{path}"'
    assert fields["IGNITION_CONFIG_TYPE"] == "user"
    assert fields["IGNITION_CONFIG_SRC"] == path
    assert fields["SYSLOG_IDENTIFIER"] == "ignition"
    assert fields["IGNITION_STAGE"] == "fetch"


def test_acquire_fetched_entry_from_provider_names_platform(setup: Setup) -> None:
    acquire(setup.ctx, FakeProvider(config_with_file("/x")))
    srcs = [f["IGNITION_CONFIG_SRC"] for _, _, f in setup.sink.entries
            if f.get("MESSAGE_ID") == log.MSG_CONFIG_FETCHED]
    assert srcs == ["fake"]


@pytest.mark.parametrize("how", ["merge", "replace"])
def test_acquire_renders_merge_and_replace(setup: Setup, how: str) -> None:
    child = data_url(config_with_file("/from-child"))
    ref: object = [{"source": child}] if how == "merge" else {"source": child}
    raw = json.dumps({"ignition": {"version": "3.6.0", "config": {how: ref}},
                      "storage": {"files": [{"path": "/from-parent"}]}}).encode()
    acquired = acquire(setup.ctx, FakeProvider(raw))
    expected = ["/from-parent", "/from-child"] if how == "merge" else ["/from-child"]
    assert file_paths(acquired) == expected
    assert acquired.fetched[0] == FetchedConfig("user", "fake", False)
    assert acquired.fetched[1].referenced and acquired.fetched[1].kind == "user"


def test_acquire_invalid_config_raises(setup: Setup) -> None:
    with pytest.raises(ConfigError):
        acquire(setup.ctx, FakeProvider(b'{"ignition": {"version": "9.9.9"}}'))
