"""What stages hand each other, saved as JSON between stage processes.

The field names in the file are Ignition's, so the state written by one
implementation's fetch stage reads the same in the other's later stages.
Each field says who writes it and who reads it.
"""

from __future__ import annotations

import json
import os
from dataclasses import field
from typing import Any

from ignition.errors import SetupError
from ignition.record import record
from ignition.tmpfile import mkstemp


@record(kw_only=False, frozen=False, slots=False)
class FetchedConfig:
    """A config a fetch stage used, as the result file reports it."""

    kind: str  # "base" or "user"
    source: str  # where it came from (a provider name or a redacted URL)
    referenced: bool  # reached through ignition.config.merge/replace


@record(kw_only=False, frozen=False, slots=False)
class State:
    """What one stage leaves for the later ones (Ignition's state file)."""

    # fetch-offline/fetch write; files reads (userConfigProvided in the result file).
    fetched_configs: list[FetchedConfig] = field(default_factory=list)
    # disks writes (generated LUKS keys as data URLs); files persists and removes them.
    luks_persist_key_files: dict[str, str] = field(default_factory=dict)
    # mount writes (mountpoint directories it created); files chowns those in homes.
    notated_directories: list[str] = field(default_factory=list)
    # providers write (files a provider wants in the target); files writes them.
    provider_output_files: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "fetchedConfigs": [
                {"kind": c.kind, "source": c.source, "referenced": c.referenced}
                for c in self.fetched_configs
            ],
            "luksPersistKeyFiles": dict(self.luks_persist_key_files),
            "notatedDirectories": list(self.notated_directories),
            "providerOutputFiles": list(self.provider_output_files),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> State:
        return cls(
            fetched_configs=[
                FetchedConfig(str(c.get("kind", "")), str(c.get("source", "")), bool(c.get("referenced")))
                for c in d.get("fetchedConfigs") or []
            ],
            luks_persist_key_files=dict(d.get("luksPersistKeyFiles") or {}),
            notated_directories=list(d.get("notatedDirectories") or []),
            provider_output_files=list(d.get("providerOutputFiles") or []),
        )


def load(path: str) -> State:
    """The saved state, or a fresh one before the first stage saved any."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return State()
    except OSError as e:
        raise SetupError(f"reading the state file {path}: {e.strerror}") from e
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return State.from_json(data)
    except (ValueError, AttributeError, TypeError) as e:
        raise SetupError(
            f"the state file {path} is corrupt ({e}); it is written by the fetch stages, "
            "remove it and rerun from fetch-offline"
        ) from e


def write_private(path: str, data: bytes, mode: int) -> None:
    """Atomic write of a file outside the target (cache, state, flags), in a
    directory created 0700 if missing."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = mkstemp(directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(f.fileno(), mode)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save(path: str, state: State) -> None:
    """Write the state unless the file already holds exactly this (most stages
    change nothing; a write is a temp file, an fsync and a rename)."""
    data = json.dumps(state.to_json(), indent=1).encode() + b"\n"
    try:
        with open(path, "rb") as f:
            if f.read(len(data) + 1) == data and os.fstat(f.fileno()).st_mode & 0o7777 == 0o600:
                return
    except OSError:
        pass  # no file yet (or unreadable): write it
    write_private(path, data, 0o600)
