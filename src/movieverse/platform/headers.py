"""Response headers every answer of every service carries, set in one place.

- ``X-Content-Type-Options: nosniff``: a browser must trust ``Content-Type`` and never guess (a
  JSON body holding user text is not to be run as HTML or script).
- ``Cache-Control: no-store`` unless the route chose its own policy. Private data (profiles,
  tokens, notifications, webhook secrets, admin reads) then never lands in a shared or browser
  cache, and a new route is private until it opts in: the public catalog reads set
  ``public, max-age=...`` with an ETag (platform/httpcache.py), which is kept as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

RawHeaders = list[tuple[bytes, bytes]]

REQUEST_ID = b"x-request-id"
CONTENT_TYPE_OPTIONS = b"x-content-type-options"
CACHE_CONTROL = b"cache-control"
NOSNIFF = b"nosniff"
NO_STORE = b"no-store"
_OURS = frozenset({REQUEST_ID, CONTENT_TYPE_OPTIONS})


def response_headers(headers: Iterable[tuple[bytes, bytes]], *, request_id: bytes) -> RawHeaders:
    """``headers`` with the request id and the security headers set; a route's own
    ``Cache-Control`` is kept."""
    kept: RawHeaders = []
    cache_policy_set = False
    for name, value in headers:
        lowered = name.lower()
        if lowered in _OURS:
            continue
        if lowered == CACHE_CONTROL:
            cache_policy_set = True
        kept.append((name, value))
    kept.append((REQUEST_ID, request_id))
    kept.append((CONTENT_TYPE_OPTIONS, NOSNIFF))
    if not cache_policy_set:
        kept.append((CACHE_CONTROL, NO_STORE))
    return kept
