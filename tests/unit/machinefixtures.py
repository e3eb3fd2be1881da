"""A fake machine for tests that run the engine in process (test_engine.py,
test_acquire.py): its kernel command line, config file, system config dirs,
/run paths and sysroot under a temporary directory, and the log of its last run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ignition import engine
from ignition.context import Paths
from ignition.environment import Environment
from tests.unit.logsink import ListSink


@dataclass
class Machine:
    tmp: Path
    env: Environment
    paths: Paths
    root: Path
    sink: ListSink = field(default_factory=ListSink)

    def config(self, cfg: object) -> None:
        Path(self.env.config_file).write_text(cfg if isinstance(cfg, str) else json.dumps(cfg))

    def fragment(self, directory: str, sub: str, name: str, cfg: object) -> str:
        path = Path(directory) / sub / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(cfg if isinstance(cfg, str) else json.dumps(cfg))
        return str(path)

    def run(self, stage: str, platform: str = "file", fetch_timeout: float = 120.0, dry_run: bool = False,
            plan_json: bool = False, out: TextIO | None = None) -> int:
        self.sink = ListSink()
        opts = engine.Options(platform=platform, stage=stage, root=str(self.root), paths=self.paths,
                              fetch_timeout=fetch_timeout, dry_run=dry_run, plan_json=plan_json)
        return engine.run(opts, env=self.env, sink=self.sink, out=out)

    def cache(self) -> dict[str, Any]:
        return dict(json.loads(Path(self.paths.config_cache).read_text()))

    def state(self) -> dict[str, Any]:
        return dict(json.loads(Path(self.paths.state_file).read_text()))


def new_machine(tmp_path: Path, cmdline: str, metadata_urls: tuple[tuple[str, str], ...] = ()) -> Machine:
    """A machine under `tmp_path` booted with the kernel command line `cmdline`,
    its platforms' metadata services at `metadata_urls` ((platform, base URL) pairs)."""
    run = tmp_path / "run"
    run.mkdir()
    root = tmp_path / "sysroot"
    root.mkdir()
    env = Environment(
        cmdline_path=str(tmp_path / "cmdline"),
        config_file=str(tmp_path / "config.ign"),
        system_config_dir=str(tmp_path / "usr-lib-ignition"),
        system_local_config_dir=str(tmp_path / "etc-ignition"),
        system_runtime_config_dir=str(tmp_path / "run-ignition"),
        fw_cfg_dir=str(tmp_path / "fw_cfg"),
        boot_id_path=str(tmp_path / "boot_id"),
        metadata_urls=metadata_urls,
    )
    (tmp_path / "cmdline").write_text(cmdline)
    paths = Paths(str(run / "ignition.json"), str(run / "ignition" / "state"), str(run / "ignition" / "neednet"))
    return Machine(tmp_path, env, paths, root)
