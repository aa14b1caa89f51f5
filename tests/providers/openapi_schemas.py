"""Reading Twilio's OpenAPI 3.0 description (the trimmed copy here) as JSON Schema for jsonschema.

`nullable: true` becomes a "null" type, `$ref`s are inlined, and objects are
closed (additionalProperties: false) so a key the fake invents fails as
surely as a missing or mistyped one.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@cache
def twilio() -> dict[str, Any]:
    return json.loads((HERE / "twilio_api_v2010.json").read_text())


@cache
def stripe_examples() -> dict[str, Any]:
    return json.loads((HERE / "stripe_fixtures3.json").read_text())["resources"]


def _resolve(ref: str) -> dict[str, Any]:
    node: Any = twilio()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def json_schema(schema: dict[str, Any], *, closed: bool = True) -> dict[str, Any]:
    """An OpenAPI 3.0 schema object as a self-contained JSON Schema."""
    if "$ref" in schema:
        return json_schema(_resolve(schema["$ref"]), closed=closed)
    out = {key: value for key, value in schema.items() if key not in {"nullable", "x-twilio", "description"}}
    if "properties" in schema:
        out["properties"] = {name: json_schema(sub, closed=closed) for name, sub in schema["properties"].items()}
        if closed:
            out["additionalProperties"] = False
    if "items" in schema:
        out["items"] = json_schema(schema["items"], closed=closed)
    if schema.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "$ref" in schema or "allOf" in out:
            out = {"anyOf": [out, {"type": "null"}]}
    # OpenAPI formats Twilio uses loosely ("phone-number", "uri" with relative URIs): not checked.
    out.pop("format", None)
    return out


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The description's (path template, operation) for a concrete request path."""
    for template, item in twilio()["paths"].items():
        pattern = "^" + "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    raise LookupError(f"{method} {path} is not in Twilio's description")
