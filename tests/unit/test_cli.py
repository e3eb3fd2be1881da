"""The `ignition` command line must accept every form a distro's units use."""

from __future__ import annotations

from pathlib import Path

import pytest

from ignition import cli, engine
from ignition.cli import parse_args, parse_duration


@pytest.mark.parametrize(
    "argv",
    [
        ["-platform", "file", "-stage", "files", "-root", "/sysroot"],
        ["-platform=file", "-stage=files", "-root=/sysroot"],
        ["--platform", "file", "--stage", "files", "--root", "/sysroot"],
        ["--platform=file", "--stage=files", "--root=/sysroot"],
        ["--root=/sysroot", "-platform", "file", "--stage=files"],
    ],
)
def test_every_flag_form_parses_the_same(argv: list[str]) -> None:
    ns = parse_args(argv)
    assert (ns.platform, ns.stage, ns.root) == ("file", "files", "/sysroot")


def test_defaults_are_ignitions() -> None:
    ns = parse_args([])
    assert ns.root == "/"
    assert ns.config_cache == "/run/ignition.json"
    assert ns.state_file == "/run/ignition/state"
    assert ns.neednet == "/run/ignition/neednet"
    assert ns.fetch_timeout == 120.0
    assert ns.log_to_stdout is False and ns.dry_run is False


@pytest.mark.parametrize("flag", ["config-cache", "state-file", "neednet"])
@pytest.mark.parametrize("form", ["-{f} {v}", "-{f}={v}", "--{f} {v}", "--{f}={v}"])
def test_path_flags(flag: str, form: str) -> None:
    ns = parse_args(form.format(f=flag, v="/x/y").split())
    assert getattr(ns, flag.replace("-", "_")) == "/x/y"


@pytest.mark.parametrize(
    ("arg", "value"),
    [("-log-to-stdout", True), ("--log-to-stdout", True), ("-log-to-stdout=true", True),
     ("-log-to-stdout=false", False), ("--log-to-stdout=1", True), ("-log-to-stdout=F", False)],
)
def test_boolean_flags(arg: str, value: bool) -> None:
    assert parse_args([arg]).log_to_stdout is value


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2m", 120.0), ("2m0s", 120.0), ("90s", 90.0), ("1h30m", 5400.0), ("500ms", 0.5), ("0", 0.0),
     ("1.5s", 1.5), ("10us", 1e-5)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("form", ["-fetch-timeout=5m", "--fetch-timeout", "-fetch-timeout"])
def test_fetch_timeout_flag(form: str) -> None:
    argv = [form] if "=" in form else [form, "5m"]
    assert parse_args(argv).fetch_timeout == 300.0


@pytest.mark.parametrize("bad", [["-fetch-timeout", "5"], ["-fetch-timeout", "m"], ["-bogus"], ["extra"],
                                 ["-log-to-stdout=maybe"], ["-plat", "file"]])
def test_usage_errors_exit_2(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        parse_args(bad)
    assert e.value.code == engine.EXIT_USAGE
    assert "ignition -help" in capsys.readouterr().err


@pytest.mark.parametrize("missing", ["platform", "stage"])
def test_platform_and_stage_are_required(missing: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["-platform", "file", "-stage", "files"]
    i = argv.index(f"-{missing}")
    del argv[i:i + 2]
    assert cli.main(argv) == engine.EXIT_USAGE
    assert f"'--{missing}' must be provided" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "root"), [
    (["-root", ""], "/"),
    (["-root="], "/"),
    (["--root", ""], "/"),
    (["-root", "sysroot"], "/work/sysroot"),
    (["-root", "./a/../sysroot/"], "/work/sysroot"),
    (["-root", "/sysroot/"], "/sysroot"),
])
def test_every_root_value_go_accepts_is_accepted(argv: list[str], root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[engine.Options] = []
    monkeypatch.setattr(engine, "run", lambda opts: seen.append(opts) or 0)
    monkeypatch.setattr("os.getcwd", lambda: "/work")
    assert cli.main(["-platform", "file", "-stage", "fetch", *argv]) == 0
    assert seen[0].root == root


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["-version"]) == 0
    assert capsys.readouterr().out.startswith("Ignition ")


@pytest.mark.parametrize("flag", ["-help", "--help", "-h"])
def test_help_lists_stages_and_platforms(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([flag]) == 0
    out = capsys.readouterr().out
    stages_line = next(line for line in out.splitlines() if line.startswith("stages:"))
    for stage in ("fetch-offline", "fetch", "kargs", "disks", "mount", "files", "umount"):
        assert stage in stages_line.split(": ", 1)[1].split(", ")
    platforms_line = next(line for line in out.splitlines() if line.startswith("platforms:"))
    for platform in ("file", "qemu", "metal"):
        assert platform in platforms_line


def test_main_runs_the_engine_with_the_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[engine.Options] = []
    monkeypatch.setattr(engine, "run", lambda opts: seen.append(opts) or 0)
    rc = cli.main(["--platform=qemu", "-stage", "disks", "-root=/sysroot", "-config-cache", "/c",
                   "-state-file=/s", "--neednet", "/n", "-fetch-timeout=30s", "-log-to-stdout",
                   "--dry-run", "--json"])
    assert rc == 0
    (o,) = seen
    assert (o.platform, o.stage, o.root) == ("qemu", "disks", "/sysroot")
    assert (o.paths.config_cache, o.paths.state_file, o.paths.neednet) == ("/c", "/s", "/n")
    assert (o.fetch_timeout, o.log_to_stdout, o.dry_run, o.plan_json) == (30.0, True, True, True)


@pytest.mark.parametrize(("bad", "says"), [
    (["-stage"], "flag needs an argument: -stage"),
    (["---stage=files"], "bad flag syntax: ---stage=files"),
    (["-=x"], "bad flag syntax"),
    (["-stage", "files", "--", "extra"], "unexpected argument: extra"),
    (["-stage", "files", "one", "two"], "unexpected arguments: one two"),
    (["-json", "false"], "unexpected argument: false"),  # a boolean's value only follows "="
    (["-fetch-timeout=5"], "invalid value '5' for flag -fetch-timeout"),
])
def test_go_flag_package_errors(bad: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        parse_args(bad)
    assert e.value.code == engine.EXIT_USAGE
    assert says in capsys.readouterr().err


def test_double_dash_ends_the_flags_and_the_last_value_wins() -> None:
    ns = parse_args(["-stage", "disks", "--stage=files", "-h=false", "--"])
    assert ns.stage == "files" and ns.help is False


def test_an_empty_root_runs_the_fetch_and_disks_stages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # As Ignition's own harness runs them: `-root ""` for the stages that never use the root.
    config = tmp_path / "config.ign"
    config.write_text('{"ignition": {"version": "3.4.0"}}')
    monkeypatch.setenv("IGNITION_CONFIG_FILE", str(config))
    run = tmp_path / "run"
    flags = ["-platform", "file", "-root", "", "-log-to-stdout", "-config-cache", str(run / "ignition.json"),
             "-state-file", str(run / "ignition" / "state"), "-neednet", str(run / "ignition" / "neednet")]
    assert cli.main(["-stage", "fetch-offline", *flags]) == engine.EXIT_OK
    assert (run / "ignition.json").is_file()
    assert cli.main(["-stage", "disks", *flags]) == engine.EXIT_OK
    assert "nothing to do in the disks stage" in capsys.readouterr().out
