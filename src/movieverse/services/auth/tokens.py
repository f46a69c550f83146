"""Access tokens (JWT) and refresh tokens (opaque, hashed, single use, in families).

Refresh tokens rotate: each use returns a new token of the same family and spends the old one.
Presenting a spent token means it was copied -- by a thief or from a thief -- so the whole family
(that login session) is revoked. The store is a port with a SQL adapter (the embedded store) and a
Redis adapter (the distributed shape); ``tests/contract/test_refresh_store_contract.py`` runs both.
"""

from __future__ import annotations

import enum
import hashlib
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.db import utcnow
from movieverse.platform.revocation import MAX_ACCESS_TOKEN_SECONDS
from movieverse.platform.security import ACCESS_TOKEN_TYPE, hs256_secret
from movieverse.platform.service_tokens import service_claims
from movieverse.platform.settings import ConfigurationError, PlatformSettings
from movieverse.services.auth.settings import AuthSettings


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_family_id() -> str:
    return uuid.uuid4().hex


class AccessTokenIssuer:
    def __init__(
        self,
        *,
        signing_key: Any,
        algorithm: str,
        issuer: str,
        audience: str,
        ttl: timedelta,
        key_id: str | None,
        public_jwk: dict[str, Any] | None,
    ) -> None:
        self._signing_key = signing_key
        self._algorithm = algorithm
        self._issuer = issuer
        self._audience = audience
        self.ttl = ttl
        self._key_id = key_id
        self._public_jwk = public_jwk

    @classmethod
    def from_settings(cls, platform: PlatformSettings, own: AuthSettings) -> AccessTokenIssuer:
        ttl = timedelta(seconds=own.access_token_ttl_seconds)

        def make(
            signing_key: Any, key_id: str | None, jwk: dict[str, str] | None
        ) -> AccessTokenIssuer:
            return cls(
                signing_key=signing_key,
                algorithm=platform.jwt_algorithm,
                issuer=platform.jwt_issuer,
                audience=platform.jwt_audience,
                ttl=ttl,
                key_id=key_id,
                public_jwk=jwk,
            )

        if platform.jwt_algorithm == "HS256":
            return make(hs256_secret(platform), None, None)
        if own.jwt_private_key_file is None:
            raise ConfigurationError(
                [
                    "MOVIEVERSE_AUTH_JWT_PRIVATE_KEY_FILE must be set when MOVIEVERSE_JWT_ALGORITHM"
                    f" is {platform.jwt_algorithm}"
                ]
            )
        private = serialization.load_pem_private_key(
            own.jwt_private_key_file.read_bytes(), password=None
        )
        public = private.public_key()
        public_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        key_id = hashlib.sha256(public_pem).hexdigest()[:16]
        algorithm_impl = OKPAlgorithm if platform.jwt_algorithm == "EdDSA" else RSAAlgorithm
        jwk = json.loads(algorithm_impl.to_jwk(public))  # type: ignore[arg-type]
        jwk.update({"kid": key_id, "use": "sig", "alg": platform.jwt_algorithm})
        return make(private, key_id, jwk)

    def issue(
        self, *, user_id: UUID, username: str, roles: list[str], session_id: str
    ) -> tuple[str, int]:
        now = utcnow()
        claims = {
            "sub": str(user_id),
            "typ": ACCESS_TOKEN_TYPE,
            "roles": roles,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + self.ttl,
            "iss": self._issuer,
            "aud": self._audience,
            "sid": session_id,
            "preferred_username": username,
        }
        headers = {"kid": self._key_id} if self._key_id else None
        token = jwt.encode(claims, self._signing_key, algorithm=self._algorithm, headers=headers)
        return token, int(self.ttl.total_seconds())

    def issue_service(self, *, name: str, ttl: timedelta) -> str:
        """A token for service ``name`` to call others on its own behalf, for deployments whose
        services cannot mint their own (platform/service_tokens.py)."""
        claims = service_claims(
            name=name, issuer=self._issuer, audience=self._audience, ttl=ttl, now=utcnow()
        )
        headers = {"kid": self._key_id} if self._key_id else None
        return jwt.encode(claims, self._signing_key, algorithm=self._algorithm, headers=headers)

    def jwks(self) -> list[dict[str, Any]]:
        """Public keys only; an HS256 deployment has none to publish."""
        return [self._public_jwk] if self._public_jwk else []


class Consumed(enum.Enum):
    OK = "ok"
    INVALID = "invalid"  # never issued (or long gone)
    EXPIRED = "expired"
    REVOKED = "revoked"  # its session was ended
    REUSED = "reused"  # already spent: theft; the family is now revoked


@dataclass(frozen=True)
class ConsumeResult:
    outcome: Consumed
    account_id: UUID | None = None
    family_id: str | None = None


class RefreshTokenStore(Protocol):
    """Every method takes the caller's unit of work: the SQL adapter writes in it, so token
    changes commit or roll back with the request; the Redis adapter does not need it."""

    async def start_family(
        self, session: AsyncSession, *, account_id: UUID, family_id: str
    ) -> None: ...

    async def issue(
        self,
        session: AsyncSession,
        *,
        account_id: UUID,
        family_id: str,
        token: str,
        expires_at: datetime,
    ) -> None: ...

    async def consume(self, session: AsyncSession, token: str) -> ConsumeResult: ...

    async def revoke_family(
        self, session: AsyncSession, family_id: str, *, reason: str
    ) -> None: ...

    async def revoke_account(
        self, session: AsyncSession, account_id: UUID, *, reason: str
    ) -> None: ...

    async def family_of(self, session: AsyncSession, token: str) -> str | None: ...

    async def families_issued_since(
        self, session: AsyncSession, account_id: UUID, *, since: datetime
    ) -> list[str]:
        """The account's sessions that issued a token at or after ``since``, ended or not: those
        whose access tokens may still be valid.

        Called after :meth:`revoke_account` in the same unit of work, it also names a session
        whose refresh was under way meanwhile: that refresh either saw the session ended and
        issued nothing, or issued before the revocation took effect and is listed here."""
        ...


Clock = Callable[[], datetime]


# Spend a token atomically. KEYS[1]: the token's hash key. ARGV[1]: the key prefix; ARGV[2]: now
# (Unix time); ARGV[3]: how long the record of issues is kept (seconds). Returns {outcome,
# account, family}. A spent token revokes its family (theft detection). A successful spend
# records, in the same step as its check that the family is not revoked, that the family issues
# a token now: a revocation either comes first and is seen here, or comes after and finds the
# record (families_issued_since).
_CONSUME_SCRIPT = """
local fields = redis.call('HMGET', KEYS[1], 'account', 'family', 'used')
local account, family, used = fields[1], fields[2], fields[3]
if not account then return {'invalid', '', ''} end
local family_key = ARGV[1] .. 'rt-family:' .. family
if used then
  if redis.call('HGET', family_key, 'revoked') == '1' then return {'revoked', account, family} end
  redis.call('HSET', family_key, 'revoked', '1', 'reason', 'reuse-detected')
  return {'reused', account, family}
end
redis.call('HSET', KEYS[1], 'used', '1')
if redis.call('HGET', family_key, 'revoked') ~= '0' then return {'revoked', account, family} end
local issued_key = ARGV[1] .. 'rt-account-issued:' .. account
redis.call('ZADD', issued_key, ARGV[2], family)
redis.call('EXPIRE', issued_key, ARGV[3])
return {'ok', account, family}
"""


class RedisRefreshTokenStore:
    """Tokens in Redis, expiring with the token; families and account indexes beside them.

    Writes here are not part of the SQL transaction; they are made last in each flow, so a failed
    request at worst leaves an unused token that expires.
    """

    def __init__(
        self, client: Redis, *, prefix: str, max_ttl_seconds: int, clock: Clock = utcnow
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._max_ttl = max_ttl_seconds
        # How long the record of a family's last issue is kept: while its refresh tokens may
        # live, and in any case while the longest access token may (the refresh token lifetime
        # can be set shorter than the access token's), with an hour to spare for clock skew.
        self._issued_horizon = max(max_ttl_seconds, MAX_ACCESS_TOKEN_SECONDS + 3600)
        self._now = clock
        self._consume = client.register_script(_CONSUME_SCRIPT)

    def _token_key(self, digest: str) -> str:
        return f"{self._prefix}rt:{digest}"

    def _family_key(self, family_id: str) -> str:
        return f"{self._prefix}rt-family:{family_id}"

    def _account_key(self, account_id: UUID) -> str:
        return f"{self._prefix}rt-account:{account_id}"

    def _issued_key(self, account_id: UUID) -> str:
        """The account's families scored by when each last issued a token (Unix time)."""
        return f"{self._prefix}rt-account-issued:{account_id}"

    async def start_family(
        self, session: AsyncSession, *, account_id: UUID, family_id: str
    ) -> None:
        now = self._now().timestamp()
        issued = self._issued_key(account_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                self._family_key(family_id), mapping={"account": str(account_id), "revoked": "0"}
            )
            pipe.expire(self._family_key(family_id), self._max_ttl)
            pipe.sadd(self._account_key(account_id), family_id)
            pipe.expire(self._account_key(account_id), self._max_ttl)
            pipe.zadd(issued, {family_id: now})
            # A family that issued nothing for so long holds no live token: forget it.
            pipe.zremrangebyscore(issued, "-inf", f"({now - self._issued_horizon}")
            pipe.expire(issued, self._issued_horizon)
            await pipe.execute()

    async def issue(
        self,
        session: AsyncSession,
        *,
        account_id: UUID,
        family_id: str,
        token: str,
        expires_at: datetime,
    ) -> None:
        ttl = max(1, int((expires_at - utcnow()).total_seconds()))
        key = self._token_key(hash_token(token))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"account": str(account_id), "family": family_id})
            pipe.expire(key, ttl)
            # A family lives as long as its newest token.
            pipe.expire(self._family_key(family_id), self._max_ttl)
            pipe.expire(self._account_key(account_id), self._max_ttl)
            pipe.zadd(self._issued_key(account_id), {family_id: self._now().timestamp()})
            pipe.expire(self._issued_key(account_id), self._issued_horizon)
            await pipe.execute()

    async def consume(self, session: AsyncSession, token: str) -> ConsumeResult:
        outcome, account, family = await self._consume(
            keys=[self._token_key(hash_token(token))],
            args=[self._prefix, self._now().timestamp(), self._issued_horizon],
        )
        result = Consumed(outcome.decode() if isinstance(outcome, bytes) else outcome)
        if result is Consumed.INVALID:
            return ConsumeResult(result)
        account_text = account.decode() if isinstance(account, bytes) else str(account)
        family_text = family.decode() if isinstance(family, bytes) else str(family)
        return ConsumeResult(result, account_id=UUID(account_text), family_id=family_text)

    async def revoke_family(self, session: AsyncSession, family_id: str, *, reason: str) -> None:
        key = self._family_key(family_id)
        if await self._redis.exists(key):
            await self._redis.hset(key, mapping={"revoked": "1", "reason": reason})

    async def revoke_account(self, session: AsyncSession, account_id: UUID, *, reason: str) -> None:
        families = await self._redis.smembers(self._account_key(account_id))
        for family in families:
            name = family.decode() if isinstance(family, bytes) else str(family)
            await self.revoke_family(session, name, reason=reason)

    async def family_of(self, session: AsyncSession, token: str) -> str | None:
        family = await self._redis.hget(self._token_key(hash_token(token)), "family")
        if family is None:
            return None
        return family.decode() if isinstance(family, bytes) else str(family)

    async def families_issued_since(
        self, session: AsyncSession, account_id: UUID, *, since: datetime
    ) -> list[str]:
        found = await self._redis.zrangebyscore(
            self._issued_key(account_id), since.timestamp(), "+inf"
        )
        return [f.decode() if isinstance(f, bytes) else str(f) for f in found]
