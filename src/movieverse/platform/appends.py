"""``append_to_response``: TMDB's way of fetching a resource and its sub-resources in one call."""

from __future__ import annotations

from collections.abc import Sequence

from movieverse.platform.errors import BadRequest, FieldError

MAX_APPENDS = 10


def parse_appends(raw: str | None, *, valid: Sequence[str]) -> list[str]:
    """The requested sub-resources, in order, without repeats; 400 for unknown names (listing
    the valid ones) or more than ``MAX_APPENDS``."""
    if not raw:
        return []
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise BadRequest(
            f"Unknown append_to_response value(s): {', '.join(unknown)}. Valid: {', '.join(valid)}",
            errors=[
                FieldError(field="query.append_to_response", message=n, code="unknown_append")
                for n in unknown
            ],
        )
    if len(names) > MAX_APPENDS:
        raise BadRequest(f"At most {MAX_APPENDS} append_to_response values")
    return list(dict.fromkeys(names))
