"""Container Linux era configs: spec 2.0.0-2.4.0 checked and translated to spec 3.1.0."""

from ignition.config.v2.check import V2_VERSIONS, schema_v2
from ignition.config.v2.notes import Origins, V2Note, origin_path
from ignition.config.v2.translate import TARGET_VERSION, translate_v2, translate_v2_traced

__all__ = ["TARGET_VERSION", "V2_VERSIONS", "Origins", "V2Note", "origin_path", "schema_v2", "translate_v2",
           "translate_v2_traced"]
