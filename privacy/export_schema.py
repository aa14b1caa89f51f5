"""JSON Schemas (draft 2020-12) of the export archive's files; FORMAT_VERSION changes when they do.

Each app's ExportPart carries its own schema; the ones below are privacy's and
the contrib apps'. The archive ships every schema next to the data, and
docs/privacy.md documents the layout.
"""

from __future__ import annotations

from typing import Any

FORMAT_VERSION = "1.0"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def string() -> dict[str, Any]:
    return {"type": "string"}


def moment(nullable: bool = True) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "format": "date-time"}


def obj(properties: dict[str, Any], *, title: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if title:
        schema = {"$schema": DIALECT, "title": title, **schema}
    return schema


def array_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


MANIFEST = obj(
    {
        "format": {"const": "numfree-export"},
        "format_version": {"const": FORMAT_VERSION},
        "created_at": moment(nullable=False),
        "files": array_of(
            obj(
                {
                    "path": string(),
                    "app": string(),
                    "category": {"enum": ["account", "phone", "payment", "usage", "cookies", "other"]},
                    "schema": {"type": ["string", "null"]},
                }
            )
        ),
    },
    title="NumFree export manifest",
)

PRIVACY = obj(
    {
        "page_views": array_of(
            obj({"path": string(), "browser": string(), "ip": {"type": ["string", "null"]}, "viewed_at": moment()})
        ),
        "objections": array_of(obj({"kind": string(), "objected": {"type": "boolean"}, "recorded_at": moment()})),
        "staff_access": array_of(obj({"staff": string(), "what": string(), "accessed_at": moment()})),
        "privacy_requests": array_of(
            obj(
                {
                    "kind": string(),
                    "status": string(),
                    "received_at": moment(),
                    "due_at": moment(),
                    "fulfilled_at": moment(),
                }
            )
        ),
        "policy_notices_dismissed": array_of(obj({"version": string(), "dismissed_at": moment()})),
    },
    title="Usage data and privacy records",
)

ADMIN = obj(
    {"admin_actions": array_of(obj({"action_time": moment(), "what": string(), "action": string()}))},
    title="Actions you took in the admin (staff only)",
)

SESSIONS = obj({"sessions": array_of(obj({"expires_at": moment()}))}, title="Signed-in browser sessions")

TOKENS = obj(
    {"refresh_tokens": array_of(obj({"created_at": moment(), "expires_at": moment(), "revoked": {"type": "boolean"}}))},
    title="Extension refresh tokens issued",
)
