"""Access tokens a service presents when it calls another on its own behalf, with no user's
request to borrow a token from (recommendations refreshing a user's cached answer after their
rating, for one).

Such a token carries the ``service`` role and a subject derived from the service's name; an
endpoint accepts it only where it says so (``Principal.is_service``). Where it comes from:

* ``MOVIEVERSE_SERVICE_TOKEN_FILE``: a token minted with ``movieverse auth service-token NAME``
  by whoever holds auth's signing key. This is the way under EdDSA or RS256, where the other
  services hold only the public key and so cannot mint;
* otherwise, under HS256, the service mints its own short-lived token from the shared secret:
  every service holds that secret to verify tokens, and with it could mint any token anyway.

With neither, :meth:`ServiceCredential.bearer` answers None and the caller does without.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt

from movieverse.platform.security import ACCESS_TOKEN_TYPE, hs256_secret
from movieverse.platform.settings import PlatformSettings

SERVICE_ROLE = "service"
MINTED_TTL = timedelta(minutes=15)
# A minted token is replaced this long before it expires, so no call carries one that lapses
# on its way.
RENEW_BEFORE_SECONDS = 60.0


def service_subject(name: str) -> UUID:
    """A service's stable subject id, never a user's (users get random v4/v7 ids)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"movieverse:service:{name}")


def service_claims(
    *, name: str, issuer: str, audience: str, ttl: timedelta, now: datetime | None = None
) -> dict[str, Any]:
    issued = now or datetime.now(UTC)
    return {
        "sub": str(service_subject(name)),
        "typ": ACCESS_TOKEN_TYPE,
        "roles": [SERVICE_ROLE],
        "jti": uuid.uuid4().hex,
        "iat": issued,
        "exp": issued + ttl,
        "iss": issuer,
        "aud": audience,
        "preferred_username": f"service:{name}",
    }


class ServiceCredential:
    def __init__(self, *, name: str, settings: PlatformSettings) -> None:
        self._name = name
        self._settings = settings
        self._token: str | None = None
        self._renew_at = 0.0

    @property
    def available(self) -> bool:
        return self._settings.service_token_file is not None or (
            self._settings.jwt_algorithm == "HS256"
        )

    def bearer(self) -> str | None:
        """An ``Authorization`` header value, or None when this deployment gives no token."""
        if self._token is None or time.monotonic() >= self._renew_at:
            self._token = self._fresh()
        return f"Bearer {self._token}" if self._token else None

    def _fresh(self) -> str | None:
        path: Path | None = self._settings.service_token_file
        if path is not None:
            # Read again on each renewal, so a rotated file is picked up without a restart.
            self._renew_at = time.monotonic() + RENEW_BEFORE_SECONDS
            return path.read_text().strip() or None
        if self._settings.jwt_algorithm != "HS256":
            return None
        self._renew_at = time.monotonic() + MINTED_TTL.total_seconds() - RENEW_BEFORE_SECONDS
        claims = service_claims(
            name=self._name,
            issuer=self._settings.jwt_issuer,
            audience=self._settings.jwt_audience,
            ttl=MINTED_TTL,
        )
        return jwt.encode(claims, hs256_secret(self._settings), algorithm="HS256")
