"""The OpenAPI 3 document of the API, served at ``/api/v1/openapi.json``.

tests/newsroom/test_openapi.py checks that every route is documented here and every path here
exists, and a schemathesis run checks the server against it.
"""

from __future__ import annotations

import functools
from typing import Any

from tainik import __version__
from tainik.server.newsroom.scopes import needs_full_scope

JSON = "application/json"
TAR = "application/x-tar"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


_COMMON = {
    "400": _error("Malformed request (a bad parameter or body)."),
    "401": _error("No valid token: missing, unknown, expired or revoked."),
    "403": _error(
        "Not allowed: the account must first set its password in the web pages, or (for a call"
        " that changes state) the token's scope is `read`."
    ),
}
_NOT_FOUND = {"404": _error("No such item.")}


def _id(name: str, what: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"The {what}'s id.",
        "schema": {"type": "integer", "minimum": 0},
    }


_LISTING = [
    {
        "name": "since",
        "in": "query",
        "description": "Only what changed at or after this time (RFC 3339; UTC if no offset).",
        "schema": {"type": "string", "format": "date-time"},
    },
    {
        "name": "cursor",
        "in": "query",
        "description": "The `next_cursor` of the previous page.",
        "schema": {"type": "string", "maxLength": 40},
    },
    {
        "name": "limit",
        "in": "query",
        "description": "Items per page (default 100).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500},
    },
]
_BY_SOURCE = {
    "name": "source_id",
    "in": "query",
    "description": "Only those of this source.",
    "schema": {"type": "integer", "minimum": 0},
}
_RANGE = [
    {
        "name": "Range",
        "in": "header",
        "description": "One byte range, e.g. `bytes=1048576-` to resume.",
        "schema": {"type": "string"},
    },
    {
        "name": "If-Range",
        "in": "header",
        "description": "The ETag of the earlier response: the range is sent only if unchanged.",
        "schema": {"type": "string"},
    },
]


def _download(what: str, parameter: str) -> dict[str, Any]:
    tar = {TAR: {"schema": {"type": "string", "format": "binary"}}}
    return {
        "get": {
            "summary": f"Download a {what} as a sealed-file tar (docs/format.md, 'Transport').",
            "operationId": f"download_{what}",
            "parameters": [_id(parameter, what), *_RANGE],
            "responses": {
                "200": {"description": "The whole sealed-file tar.", "content": tar},
                "206": {"description": "The byte range asked for.", "content": tar},
                "416": {"description": "The range lies beyond the end of the archive."},
                **_COMMON,
                **_NOT_FOUND,
            },
        }
    }


def _delete(what: str, parameter: str, extra: str = "") -> dict[str, Any]:
    return {
        "summary": f"Delete a {what}{extra} (rows and sealed files).",
        "operationId": f"delete_{what}",
        "parameters": [_id(parameter, what)],
        "responses": {"204": {"description": "Deleted."}, **_COMMON, **_NOT_FOUND},
    }


def _listing(what: str, schema: str, by_source: bool) -> dict[str, Any]:
    return {
        "get": {
            "summary": f"List {what} changed since a time, oldest first, a page at a time.",
            "operationId": f"list_{what}",
            "parameters": [*_LISTING, *([_BY_SOURCE] if by_source else [])],
            "responses": {"200": _ok(f"A page of {what}.", schema), **_COMMON},
        }
    }


def _string(max_length: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, **extra}


_TIME = {"type": "string", "format": "date-time"}
_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "A stable code, e.g. not_found."},
            "message": {
                "type": "string",
                "description": "What went wrong, in the language of Accept-Language (English "
                "when it names none).",
            },
            "hint": {"type": "string", "description": "What to do about it, when known."},
        },
    },
    "TokenRequest": {
        "type": "object",
        "required": ["name", "password", "code"],
        "properties": {
            "name": _string(200),
            "password": _string(1024),
            "code": _string(20, description="The current TOTP code (6 digits)."),
            "scope": {
                "type": "string",
                "enum": ["read", "full"],
                "default": "read",
                "description": (
                    "`read`: list and download (what `tainik pull` needs); `full`: also reply"
                    " and delete."
                ),
            },
        },
    },
    "Token": {
        "type": "object",
        "required": ["token", "expires_at", "name", "is_admin", "scope"],
        "properties": {
            "token": {"type": "string"},
            "expires_at": _TIME,
            "name": {"type": "string"},
            "is_admin": {"type": "boolean"},
            "scope": {"type": "string", "enum": ["read", "full"]},
        },
    },
    "Me": {
        "type": "object",
        "required": ["name", "is_admin", "scope"],
        "properties": {
            "name": {"type": "string"},
            "is_admin": {"type": "boolean"},
            "scope": {"type": "string", "enum": ["read", "full"]},
        },
    },
    "ReplyRequest": {
        "type": "object",
        "required": ["text"],
        "properties": {"text": _string(100_000, minLength=1)},
    },
    "Created": {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "integer"}},
    },
    "Source": {
        "type": "object",
        "required": [
            *("id", "designation", "created_at", "last_activity", "starred"),
            *("submissions", "replies", "unread", "uploading"),
        ],
        "properties": {
            "id": {"type": "integer"},
            "designation": {"type": "string", "description": "A random two-word pseudonym."},
            "created_at": _TIME,
            "last_activity": _TIME,
            "starred": {"type": "boolean"},
            "submissions": {"type": "integer"},
            "replies": {"type": "integer"},
            "unread": {"type": "integer", "description": "Items this account has not read."},
            "uploading": {"type": "integer", "description": "Uploads still in progress."},
        },
    },
    "Submission": {
        "type": "object",
        "required": [
            *("id", "source_id", "sealed_id", "kind", "size", "created_at"),
            *("read", "complete", "download"),
        ],
        "properties": {
            "id": {"type": "integer"},
            "source_id": {"type": "integer"},
            "sealed_id": {"type": "string"},
            "kind": {"type": "string", "enum": ["message", "file"]},
            "size": {"type": "integer", "description": "Bytes of ciphertext."},
            "created_at": _TIME,
            "read": {"type": "boolean"},
            "complete": {"type": "boolean"},
            "download": {"type": "string"},
        },
    },
    "Reply": {
        "type": "object",
        "required": ["id", "source_id", "sealed_id", "created_at", "author", "read", "download"],
        "properties": {
            "id": {"type": "integer"},
            "source_id": {"type": "integer"},
            "sealed_id": {"type": "string"},
            "created_at": _TIME,
            "author": {"type": "string", "nullable": True},
            "read": {"type": "boolean"},
            "download": {"type": "string"},
        },
    },
}
for _name, _item in (("Source", "Source"), ("Submission", "Submission"), ("Reply", "Reply")):
    _SCHEMAS[f"{_name}Page"] = {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref(_item)},
            "next_cursor": {"type": "string", "nullable": True},
        },
    }


@functools.cache
def _build() -> dict[str, Any]:
    body = {"required": True, "content": {JSON: {"schema": _ref("TokenRequest")}}}
    paths: dict[str, Any] = {
        "/openapi.json": {
            "get": {
                "summary": "This document.",
                "operationId": "openapi",
                "security": [],
                "responses": {"200": {"description": "The OpenAPI document."}},
            }
        },
        "/tokens": {
            "post": {
                "summary": (
                    "Get a token with name, password and TOTP code (throttled by name: see"
                    " docs/api.md)."
                ),
                "operationId": "new_token",
                "security": [],
                "requestBody": body,
                "responses": {
                    "201": _ok("A token, shown once.", "Token"),
                    "400": _COMMON["400"],
                    "403": _error("Wrong name, password or code, or a code used before."),
                    "429": _error(
                        "Too many failed attempts for this name: only the password with an"
                        " unused TOTP code is checked now."
                    ),
                },
            }
        },
        "/tokens/current": {
            "delete": {
                "summary": "Revoke the token of this request.",
                "operationId": "revoke_token",
                "responses": {"204": {"description": "Revoked."}, **_COMMON},
            }
        },
        "/me": {
            "get": {
                "summary": "Who the token belongs to.",
                "operationId": "me",
                "responses": {"200": _ok("The account.", "Me"), **_COMMON},
            }
        },
        "/sources": _listing("sources", "SourcePage", by_source=False),
        "/sources/{source_id}": {
            "get": {
                "summary": "One source.",
                "operationId": "get_source",
                "parameters": [_id("source_id", "source")],
                "responses": {"200": _ok("The source.", "Source"), **_COMMON, **_NOT_FOUND},
            },
            "delete": _delete("source", "source_id", " and everything it sent or received"),
        },
        "/sources/{source_id}/replies": {
            "post": {
                "summary": "Reply to a source (sealed to the source and the organisation).",
                "operationId": "reply",
                "parameters": [_id("source_id", "source")],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("ReplyRequest")}},
                },
                "responses": {"201": _ok("The reply's id.", "Created"), **_COMMON, **_NOT_FOUND},
            }
        },
        "/submissions": _listing("submissions", "SubmissionPage", by_source=True),
        "/submissions/{submission_id}/download": _download("submission", "submission_id"),
        "/submissions/{submission_id}": {"delete": _delete("submission", "submission_id")},
        "/replies": _listing("replies", "ReplyPage", by_source=True),
        "/replies/{reply_id}/download": _download("reply", "reply_id"),
        "/replies/{reply_id}": {"delete": _delete("reply", "reply_id")},
    }
    for path, operations in paths.items():
        for method, operation in operations.items():
            # Bearer tokens have no scopes in OpenAPI 3 (only OAuth 2 has): an extension says.
            full = needs_full_scope(method, path)
            operation["x-token-scope"] = "full" if full else "read"
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Tainik newsroom API",
            "version": __version__,
            "description": (
                "For the offline workstation's sync tool; see docs/api.md. `x-token-scope` on"
                " each operation names the token scope it needs: `read` tokens (the default)"
                " list and download, `full` tokens may also reply and delete."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def document() -> dict[str, Any]:
    """The document (built once; callers must not change it)."""
    return _build()
