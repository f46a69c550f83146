"""HTTP caching for read endpoints: strong ETags, conditional requests, Cache-Control."""

from __future__ import annotations

import hashlib

from fastapi import Request
from fastapi.responses import Response

from movieverse.platform.errors import PreconditionFailed


def strong_etag(body: bytes) -> str:
    """A strong validator: equal exactly when the representation's bytes are equal."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _listed(header: str, etag: str) -> bool:
    candidates = {c.strip() for c in header.split(",")}
    return "*" in candidates or etag in candidates


def cacheable_json(request: Request, body: bytes, *, cache_control: str) -> Response:
    """The JSON body with its ETag, or 304 Not Modified when the client already has it."""
    etag = strong_etag(body)
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _listed(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def require_current(request: Request, current_body: bytes) -> None:
    """For writes with ``If-Match``: refuse (412) unless the client saw the current version."""
    if_match = request.headers.get("if-match")
    if if_match is not None and not _listed(if_match, strong_etag(current_body)):
        raise PreconditionFailed(
            "The movie changed since you read it (If-Match does not match its ETag); "
            "fetch it again and reapply your change"
        )
