"""Reading back the config cache.

The cache is written by our fetch stages in the latest spec, after the full
parse and validation; the later stages read it back without running the
schema and semantic checks again (and without loading the validator at all),
which is a good share of each stage's start-up. Anything unexpected in it
(another spec, another writer) goes through the full parser instead.
"""

from __future__ import annotations

import json

from ignition import SPEC_VERSION
from ignition.config.types import Config, config_from_dict


def read_cache(raw: bytes) -> Config | None:
    """The cached config, or None when it is not one of ours (then parse it fully)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    ign = data.get("ignition")
    if not isinstance(ign, dict) or ign.get("version") != SPEC_VERSION:
        return None
    try:
        return config_from_dict(data)
    except (TypeError, ValueError):
        return None
