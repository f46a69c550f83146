"""The gateway route table (DESIGN.md), the one source for the all-in-one app and nginx.

Prefixes send whole path trees to a service; patterns are more specific routes that win over the
prefixes (``/users/me/ratings`` belongs to reviews even though ``/users`` belongs to users).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    service: str
    prefix: str | None = None
    pattern: str | None = None  # a path template: {param} matches one segment

    def regex(self) -> re.Pattern[str]:
        assert self.pattern is not None
        parts = re.split(r"(\{[^}]+\})", self.pattern)
        body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        return re.compile(f"^{body}(/.*)?$")


ROUTES: tuple[Route, ...] = (
    # Specific routes first: they win over the prefixes below.
    Route("reviews", pattern="/movies/{id}/rating"),
    Route("reviews", pattern="/movies/{id}/reviews"),
    Route("reviews", pattern="/users/me/ratings"),
    Route("reviews", pattern="/users/{username}/reviews"),
    Route("recommendations", pattern="/movies/{id}/similar"),
    Route("recommendations", pattern="/movies/{id}/recommendations"),
    Route("auth", prefix="/auth"),
    Route("users", prefix="/users"),
    Route("movies", prefix="/movies"),
    Route("movies", prefix="/discover"),
    Route("movies", prefix="/trending"),
    Route("movies", prefix="/find"),
    Route("metadata", prefix="/genres"),
    Route("metadata", prefix="/people"),
    Route("metadata", prefix="/metadata"),
    Route("reviews", prefix="/reviews"),
    Route("search", prefix="/search"),
    Route("indexer", prefix="/indexer"),
    Route("notifications", prefix="/notifications"),
    Route("recommendations", prefix="/recommendations"),
    Route("ai", prefix="/ai"),
    Route("crawler", prefix="/crawler"),
    Route("data", prefix="/data"),
    Route("bff", prefix="/admin"),
)


class RouteTable:
    def __init__(self, routes: tuple[Route, ...] = ROUTES) -> None:
        self._patterns = [(r.regex(), r.service) for r in routes if r.pattern]
        self._prefixes = sorted(
            ((r.prefix, r.service) for r in routes if r.prefix),
            key=lambda item: len(item[0]),
            reverse=True,
        )

    def service_for(self, path: str) -> str | None:
        for regex, service in self._patterns:
            if regex.match(path):
                return service
        for prefix, service in self._prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return service
        return None
