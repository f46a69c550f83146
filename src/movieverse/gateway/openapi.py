"""Merge the services' OpenAPI documents into one for the gateway's /docs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def merge_openapi(documents: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """Union of paths and component schemas.

    Two services may name different schemas alike (both have a ``Preferences``, say): such a
    schema is renamed ``<service>__<Name>`` in that service's part of the document and its
    references are rewritten, so no service's schema silently replaces another's.
    """
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "MovieVerse",
            "version": "0.1.0",
            "description": "Every MovieVerse service behind one gateway.",
        },
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    schemas: dict[str, Any] = merged["components"]["schemas"]
    seen_tags: set[str] = set()
    for service, document in documents.items():
        own = document.get("components", {}).get("schemas", {})
        renames = {
            name: f"{service}__{name}"
            for name, schema in own.items()
            if name in schemas and schemas[name] != schema
        }
        text = json.dumps(document)
        for old, new in renames.items():
            text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
        renamed = json.loads(text)
        for name, schema in renamed.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        # Every service verifies the same access tokens: one bearer scheme serves them all.
        merged["components"]["securitySchemes"].update(
            renamed.get("components", {}).get("securitySchemes", {})
        )
        for path, item in renamed.get("paths", {}).items():
            if path in {"/healthz", "/readyz", "/metrics"}:
                continue
            merged["paths"].setdefault(path, {}).update(item)
        for tag in renamed.get("tags", []):
            if tag.get("name") not in seen_tags:
                seen_tags.add(tag["name"])
                merged["tags"].append(tag)
    return merged
