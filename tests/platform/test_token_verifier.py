"""TokenVerifier: the verdict cache never outlives the token or admits a bad one."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from movieverse.platform.errors import Unauthorized
from movieverse.platform.security import TokenVerifier

SECRET = b"k" * 48


def _token(*, lifetime: float, typ: str = "access", audience: str = "movieverse") -> str:
    now = time.time()
    return jwt.encode(
        {
            "sub": str(uuid.uuid4()),
            "typ": typ,
            "roles": ["user"],
            "jti": uuid.uuid4().hex,
            "iat": int(now),
            "exp": now + lifetime,
            "iss": "movieverse",
            "aud": audience,
        },
        SECRET,
        algorithm="HS256",
    )


def _verifier(cache_size: int = 10_000) -> TokenVerifier:
    return TokenVerifier(
        key=SECRET,
        algorithm="HS256",
        issuer="movieverse",
        audience="movieverse",
        cache_size=cache_size,
    )


def test_a_cached_token_stops_working_when_it_expires() -> None:
    verifier = _verifier()
    # Expired 4 s ago: still inside the verifier's 5 s clock-skew leeway, for one more second.
    token = _token(lifetime=-4.0)
    first = verifier.verify_access(token)
    assert verifier.verify_access(token) == first
    time.sleep(1.2)
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify_access(token)


@pytest.mark.parametrize(
    "token",
    [
        _token(lifetime=60, typ="refresh"),
        _token(lifetime=60, audience="elsewhere"),
        _token(lifetime=60)[:-3] + "abc",
    ],
)
def test_refusals_are_not_cached(token: str) -> None:
    verifier = _verifier()
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.verify_access(token)


def test_the_cache_is_bounded() -> None:
    verifier = _verifier(cache_size=3)
    tokens = [_token(lifetime=60) for _ in range(5)]
    principals = [verifier.verify_access(t) for t in tokens]
    assert [verifier.verify_access(t) for t in tokens] == principals
    assert len(verifier._cache) == 3
