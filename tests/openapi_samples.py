"""Requests made from the merged OpenAPI document: every operation, with plausible values.

Tests that must hold for *every* route (a new one included) walk the document instead of a list
that a new route would silently miss.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

JsonSchema = dict[str, Any]
# Past this depth a schema is taken to recur (a comment's replies): nothing of ours nests deeper.
MAX_DEPTH = 8


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    template: str  # "/reviews/{review_id}"
    spec: dict[str, Any]

    @property
    def needs_auth(self) -> bool:
        return bool(self.spec.get("security"))

    @property
    def json_body_schema(self) -> JsonSchema | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        media: dict[str, Any] | None = content.get("application/json")
        return None if media is None else media.get("schema", {})

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for template, item in document["paths"].items():
        for method, spec in item.items():
            if method in {"get", "put", "post", "patch", "delete"}:
                yield Operation(method.upper(), template, spec)


class Samples:
    """Plausible values for one document's parameters and bodies."""

    def __init__(self, document: dict[str, Any], *, path_values: dict[str, str]) -> None:
        self.document = document
        # Known-good values by parameter name (an existing movie id, the admin's username).
        self.path_values = path_values

    def resolve(self, schema: JsonSchema) -> JsonSchema:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.document["components"]["schemas"][name]
        return schema

    def path(self, operation: Operation) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in self.path_values:
                return self.path_values[name]
            parameter = next(p for p in operation.spec.get("parameters", []) if p["name"] == name)
            return str(self.plain_value(parameter.get("schema", {})))

        return re.sub(r"\{([^}]+)\}", value, operation.template)

    def plain_value(self, schema: JsonSchema) -> Any:
        """A valid-looking scalar for ``schema`` (path parameters, non-text fields)."""
        schema = self._one_of(self.resolve(schema))
        if "enum" in schema:
            return schema["enum"][0]
        if "const" in schema:
            return schema["const"]
        kind = schema.get("type")
        if kind == "integer":
            return max(1, int(schema.get("minimum", 1)))
        if kind == "number":
            return max(1.0, float(schema.get("minimum", 1.0)))
        if kind == "boolean":
            return False
        return {
            "uuid": str(uuid.UUID(int=1)),
            "email": "someone@example.org",
            "date-time": "2026-01-01T00:00:00Z",
            "date": "2026-01-01",
            "uri": "https://example.org/",
        }.get(schema.get("format", ""), "text")

    def body(self, schema: JsonSchema, text: Callable[[], str]) -> tuple[Any, list[str]]:
        """A body with every free-text string (no enum, no const) set by ``text``, and the
        field paths (``body.title``) of those strings in document order."""
        paths: list[str] = []
        value = self._value(schema, "body", text, paths, 0)
        return value, paths

    def _value(
        self, schema: JsonSchema, path: str, text: Callable[[], str], paths: list[str], depth: int
    ) -> Any:
        schema = self._one_of(self.resolve(schema))
        if depth > MAX_DEPTH:
            return None
        if "allOf" in schema:
            merged: JsonSchema = {}
            for part in schema["allOf"]:
                merged.update(self.resolve(part))
            schema = merged
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return {
                name: self._value(child, f"{path}.{name}", text, paths, depth + 1)
                for name, child in schema.get("properties", {}).items()
            }
        if kind == "array":
            return [self._value(schema.get("items", {}), f"{path}.0", text, paths, depth + 1)]
        if kind == "string" and "enum" not in schema and "const" not in schema:
            paths.append(path)
            return text()
        return self.plain_value(schema)

    def _one_of(self, schema: JsonSchema) -> JsonSchema:
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.resolve(s) for s in schema[key]]
                chosen = next((s for s in options if s.get("type") != "null"), options[0])
                return {**{k: v for k, v in schema.items() if k != key}, **chosen}
        return schema
