"""`/etc/.ignition-result.json` in the target: when and how this machine was
provisioned. A result already there means the machine went through a first
boot before, which an operator must hear about: a re-run on top of a
provisioned system mixes two configs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ignition.context import StageContext
from ignition.errors import StageError

RESULT_PATH = "/etc/.ignition-result.json"


def write_result(ctx: StageContext, now: datetime | None = None) -> dict[str, Any]:
    """Write the result file (0600) and return what was written."""
    result: dict[str, Any] = {
        "provisioningBootID": _boot_id(ctx.env.boot_id_path),
        "provisioningDate": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "userConfigProvided": any(c.kind == "user" for c in ctx.state.fetched_configs),
    }
    previous = ctx.root.read_bytes(RESULT_PATH)
    if previous is not None:
        ctx.logger.warning(
            "Ignition has already run on this system: a previous result exists at "
            f"{RESULT_PATH}; unexpected behavior may occur. Ignition is not designed to run more "
            "than once per system."
        )
        try:
            result["previousReport"] = json.loads(previous)
        except ValueError:
            result["previousReport"] = previous.decode("utf-8", "replace")
    try:
        ctx.root.write_file(RESULT_PATH, json.dumps(result, indent=2).encode() + b"\n", mode=0o600, uid=0, gid=0)
    except OSError as e:  # e.g. a file of the config replaced /etc
        raise StageError(f"writing the result file {RESULT_PATH}: {e.strerror or e}; "
                         "does the config replace /etc with something that is not a directory?") from e
    return result


def _boot_id(path: str) -> str:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""
