"""One plan: render the config, then run every stage's own code in Ignition's
order against the described machine, in this process, with the dry-run runner
and sysroot. The stages are the real ones (the registry's); only the world
they look at is described. Everything the stages need on disk (the config
file, empty system config dirs, an empty kernel command line, the run dir,
and by default the root) lives in a temp dir removed at the end."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import field

from ignition import acquire, registry
from ignition.config.types import Config
from ignition.context import Paths, ProviderContext, StageContext
from ignition.environment import Environment
from ignition.errors import ConfigError, IgnitionError, NeedsNetwork
from ignition.fetchsettings import Fetchers
from ignition.log import Logger, Sink
from ignition.plan import Plan
from ignition.planner.machine import PlannedMachine
from ignition.planner.recording import OfflineFetcher, PlanRunner, PlanSysroot
from ignition.planner.trees import TargetTrees
from ignition.providers.file import FileProvider
from ignition.record import record
from ignition.resources.fetcher import Fetcher
from ignition.state import State

FETCH = "fetch-offline/fetch"
STAGES = ("kargs", "disks", "mount", "files", "umount")
PLATFORM = "file"


@record(kw_only=False, slots=False)
class Options:
    """The flags of one `ignition-plan` run."""

    disks: list[tuple[str, str]] = field(default_factory=list)  # (device, image file or blank:SIZE)
    default_size: int = 100 << 30
    root: str | None = None  # the target root as the image ships it (read only)
    offline: bool = False
    sectors: dict[str, int] = field(default_factory=dict)  # device -> logical sector size
    root_device: str | None = None  # the device the OS's root= names (trees.py)


@record(kw_only=False, frozen=False, slots=False)
class StageRun:
    """What one stage planned: its slice of the plan, or why it was skipped."""

    name: str
    entries: slice
    ran: bool


@record(kw_only=False, frozen=False, slots=False)
class Outcome:
    """Everything the report shows."""

    plan: Plan
    machine: PlannedMachine
    sysroot: PlanSysroot
    stages: list[StageRun]
    config: Config | None
    error: str | None  # the one line the first boot would print
    unfetched: list[tuple[str, str]]
    root_given: bool
    trees: TargetTrees
    configs: list[tuple[str, str, bool]] = field(default_factory=list)  # (kind, redacted source, referenced)


def _workspace_parent() -> str | None:
    """$TMPDIR when set; else the session's own tmpfs ($XDG_RUNTIME_DIR): the
    copy of an image's root is thousands of small files, which a disk-backed
    /tmp makes ten times slower to write and remove; else tempfile's default."""
    if os.environ.get("TMPDIR"):
        return None
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    return runtime if runtime.startswith("/") and os.path.isdir(runtime) and os.access(runtime, os.W_OK) else None


@contextmanager
def workspace(raw: bytes, root: str | None) -> Iterator[tuple[Environment, Paths, str]]:
    """The environment pointing only inside a fresh temp dir, its Paths, and the root."""
    with tempfile.TemporaryDirectory(prefix="ignition-plan-", dir=_workspace_parent()) as tmp:
        def inside(*names: str) -> str:
            return os.path.join(tmp, *names)

        config = inside("config.ign")
        with open(config, "wb") as f:
            f.write(raw)
        with open(inside("cmdline"), "w", encoding="ascii"):
            pass
        env = Environment(cmdline_path=inside("cmdline"), config_file=config,
                          system_config_dir=inside("usr-lib-ignition"),
                          system_local_config_dir=inside("etc-ignition"),
                          system_runtime_config_dir=inside("run-ignition"),
                          fw_cfg_dir=inside("fw_cfg"), boot_id_path=inside("boot_id"),
                          config_drive_dir=inside("config-drives"), dev_dir=inside("dev"),
                          networkd_leases_dir=inside("leases"))
        paths = Paths(inside("run", "ignition.json"), inside("run", "ignition", "state"),
                      inside("run", "ignition", "neednet"))
        os.mkdir(inside("root"))  # trees.py fills it once the disks stage has decided
        os.mkdir(inside("scratch"))
        yield env, paths, root if root is not None else inside("root")


def plan(raw: bytes, opts: Options, sink: Sink) -> Outcome:
    """Plan `raw` (a config of any spec) against the machine `opts` describes.
    ConfigError for an invalid config; UsageError for a bad --disk."""
    logger = Logger(sink, "plan", PLATFORM)
    the_plan = Plan()
    runner = PlanRunner(logger, the_plan)
    machine = PlannedMachine.build(runner, opts.disks, opts.default_size, opts.sectors)
    with workspace(raw, opts.root) as (env, paths, root):
        sysroot = PlanSysroot(root, the_plan)
        scratch = os.path.join(os.path.dirname(env.config_file), "scratch")
        machine.scratch = scratch
        trees = TargetTrees(machine, runner, root, scratch, opts.root, opts.root_device)
        runner.on_mount = trees.mounted
        out = Outcome(the_plan, machine, sysroot, [], None, None, [], opts.root is not None, trees)
        fetchers = Fetchers(logger, offline=opts.offline)
        pctx = ProviderContext(PLATFORM, logger, runner, fetchers.provider(120.0), env, 120.0, True)
        start = len(the_plan.entries)
        try:
            got = acquire.acquire(pctx, FileProvider(), fetchers=fetchers)
            out.configs = [(f.kind, f.source, f.referenced) for f in got.fetched]
            config = acquire.layer(None, got.config)
        except ConfigError:
            raise  # an invalid config: the caller prints the validator's report
        except NeedsNetwork as e:
            out.error = (f"{e}; ignition-plan --offline does not fetch the configs a config references: "
                         "plan without --offline")
            return out
        except IgnitionError as e:
            out.error = _one_line(e)
            return out
        finally:
            out.stages.append(StageRun(FETCH, slice(start, len(the_plan.entries)), True))
        out.config = config
        fetcher: Fetcher = OfflineFetcher(logger) if opts.offline else fetchers.for_config(config)
        state = State()
        available = registry.stages()
        for name in STAGES:
            if name == "mount":
                trees.choose_root(config)  # what the OS's initrd mounts at /sysroot before this stage
            stage = available.get(name)()
            start = len(the_plan.entries)
            ctx = StageContext(config, sysroot, runner, fetcher, state, PLATFORM, logger, env, paths,
                               True, the_plan, machine)
            applies = stage.applies(config)
            try:
                if applies:
                    stage.run(ctx)
            except IgnitionError as e:
                out.error = _one_line(e)
            except ConfigError as e:
                out.error = _one_line(e)
            out.stages.append(StageRun(name, slice(start, len(the_plan.entries)), applies))
            if out.error is not None:
                break
        if isinstance(fetcher, OfflineFetcher):
            out.unfetched = list(fetcher.unfetched)
    return out


def _one_line(e: Exception) -> str:
    from ignition.engine import one_line

    return one_line(e)
