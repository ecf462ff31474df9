"""JSON Schema export of the models; ``schemas/`` holds the committed copies (a test catches drift)."""

from __future__ import annotations

import json

from khabar.core.digest import SCHEMA_VERSION, Digest, DigestDraft

__all__ = ["export_schemas"]


def export_schemas() -> dict[str, str]:
    """File name -> JSON text for the Digest (what khabar returns) and the draft (what the model fills)."""
    out: dict[str, str] = {}
    for name, model in (("digest.schema.json", Digest), ("digest_draft.schema.json", DigestDraft)):
        schema = model.model_json_schema()
        schema["$id"] = f"https://khabar.invalid/schemas/{name}"
        schema["x-khabar-schema-version"] = SCHEMA_VERSION
        out[name] = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return out
