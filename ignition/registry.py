"""Stages and providers are plugins found through entry points, the built-in
ones declared in setup.cfg like a third party's would be. Plugins are imported
only when asked for, so `ignition -stage files` never imports the disk code."""

from __future__ import annotations

from typing import Any

from ignition import entrypoints
from ignition.entrypoints import EntryPoint
from ignition.errors import SetupError, UsageError
from ignition.record import record

STAGE_GROUP = "ignition.stages"
PROVIDER_GROUP = "ignition.providers"

# Ignition's stage names. If these are missing the package metadata is.
CORE_STAGES = ("fetch-offline", "fetch", "kargs", "disks", "mount", "files", "umount")

MISSING_METADATA_FIX = (
    "the ignition package's metadata (ignition-*.dist-info with entry_points.txt) is not on "
    "this Python's path; reinstall the package (`pip install .`), or in an initramfs make sure "
    "the dracut module copied the dist-info directory next to the ignition package"
)


@record(kw_only=False, slots=False)
class Registry:
    """The plugins of one entry-point group (stages or platforms), loaded on demand."""

    group: str
    kind: str  # "stage" or "platform", for messages
    entries: dict[str, EntryPoint]

    @classmethod
    def load(cls, group: str, kind: str) -> Registry:
        entries: dict[str, EntryPoint] = {}
        # The fast scan of sys.path; importlib.metadata only when it finds
        # nothing (distributions that only a custom finder knows).
        eps = entrypoints.entry_points(group) or entrypoints.from_metadata(group)
        for ep in eps:
            if ep.name in entries and entries[ep.name].value != ep.value:
                raise SetupError(
                    f"two {kind}s are registered as {ep.name!r}: {entries[ep.name].value} and "
                    f"{ep.value}; uninstall one of the packages providing them"
                )
            entries[ep.name] = ep
        return cls(group, kind, entries)

    def names(self) -> list[str]:
        return sorted(self.entries)

    def get(self, name: str) -> Any:
        """The plugin class registered as `name`, imported now."""
        ep = self.entries.get(name)
        if ep is None:
            valid = ", ".join(self.names()) or "(none registered)"
            raise UsageError(f"unknown {self.kind} {name!r}; valid {self.kind}s: {valid}")
        try:
            return ep.load()
        except (ImportError, AttributeError) as e:
            raise SetupError(f"the {self.kind} {name!r} ({ep.value}) cannot be loaded: {e}") from e


def stages() -> Registry:
    reg = Registry.load(STAGE_GROUP, "stage")
    missing = [s for s in CORE_STAGES if s not in reg.entries]
    if missing:
        raise SetupError(f"the core stages {', '.join(missing)} are not registered: {MISSING_METADATA_FIX}")
    return reg


def providers() -> Registry:
    reg = Registry.load(PROVIDER_GROUP, "platform")
    if not reg.entries:
        raise SetupError(f"no platforms are registered: {MISSING_METADATA_FIX}")
    return reg
