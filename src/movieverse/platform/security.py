"""Passwords (argon2id), access-token verification, and the current-user dependencies.

Every service verifies access tokens locally (DESIGN rule 8). With HS256 that needs the shared
secret; with EdDSA or RS256 only the public key (``MOVIEVERSE_JWT_PUBLIC_KEY_FILE``), so a service
that is not auth never holds anything that can mint tokens.
"""

from __future__ import annotations

import os
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import anyio.to_thread
import jwt
from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from movieverse.platform.errors import Forbidden, Unauthorized
from movieverse.platform.settings import PlatformSettings

if TYPE_CHECKING:
    from movieverse.platform.revocation import Revocations

ACCESS_TOKEN_TYPE = "access"  # noqa: S105 -- a claim value, not a secret
DEV_SECRET_FILE = "jwt-secret.key"  # noqa: S105 -- a file name, not a secret


class PasswordHasher:
    """argon2id hashing off the event loop (a hash costs tens of milliseconds of CPU)."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )

    def hash_sync(self, password: str) -> str:
        return self._hasher.hash(password)

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await anyio.to_thread.run_sync(check)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def development_secret(var_dir: Path) -> bytes:
    """A random secret kept under var/, created once; shared by all processes of a checkout."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / DEV_SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    value = secrets.token_urlsafe(48).encode()
    with os.fdopen(fd, "wb") as handle:
        handle.write(value)
    return value


def hs256_secret(settings: PlatformSettings) -> bytes:
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value().encode()
    if settings.is_production:
        raise RuntimeError("MOVIEVERSE_SECRET_KEY is required in production")
    return development_secret(settings.var_dir)


def verification_key(settings: PlatformSettings) -> Any:
    if settings.jwt_algorithm == "HS256":
        return hs256_secret(settings)
    if settings.jwt_public_key_file is None:
        raise RuntimeError(
            f"MOVIEVERSE_JWT_PUBLIC_KEY_FILE is required for {settings.jwt_algorithm} tokens"
        )
    return settings.jwt_public_key_file.read_bytes()


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the access token describes them."""

    user_id: UUID
    roles: frozenset[str]
    session_id: str | None
    username: str | None
    token_id: str

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def is_service(self) -> bool:
        """A MovieVerse service calling on its own behalf (platform/service_tokens.py)."""
        return "service" in self.roles


class TokenVerifier:
    """Verifies access tokens, remembering recent verdicts.

    A token's signature and claims cannot change before it expires, so a verified token is kept
    -- with its expiry -- in a bounded LRU and not re-verified on every request of a session.
    Only successes are kept. What can change is whether its session or account still stands:
    that is asked of ``revocations`` (in memory, see revocation.py) on every request, cached
    or not.
    """

    def __init__(
        self,
        *,
        key: Any,
        algorithm: str,
        issuer: str,
        audience: str,
        cache_size: int = 10_000,
        revocations: Revocations | None = None,
    ) -> None:
        self._key = key
        # Exactly one algorithm is accepted: "none" and algorithm-confusion tricks fail here.
        self._algorithms = [algorithm]
        self._issuer = issuer
        self._audience = audience
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size
        self._revocations = revocations

    @classmethod
    def from_settings(
        cls, settings: PlatformSettings, *, revocations: Revocations | None = None
    ) -> TokenVerifier:
        return cls(
            key=verification_key(settings),
            algorithm=settings.jwt_algorithm,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            revocations=revocations,
        )

    def verify_access(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None and time.time() < cached[1]:
            self._cache.move_to_end(token)
            principal = cached[0]
        else:
            if cached is not None:
                del self._cache[token]
            principal, expires_at = self._verify(token)
            self._cache[token] = (principal, expires_at)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        self.ensure_standing(principal)
        return principal

    def ensure_standing(self, principal: Principal) -> None:
        """Refuse a principal whose session was ended or whose account was deleted."""
        if self._revocations is None or principal.is_service:
            return
        refusal = self._revocations.refusal(
            user_id=principal.user_id, session_id=principal.session_id
        )
        if refusal is not None:
            raise Unauthorized(refusal)

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["sub", "typ", "jti", "iat", "exp", "iss", "aud"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The access token is invalid") from exc
        if claims.get("typ") != ACCESS_TOKEN_TYPE:
            raise Unauthorized("Not an access token")
        try:
            user_id = UUID(str(claims["sub"]))
        except ValueError as exc:
            raise Unauthorized("The access token is invalid") from exc
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthorized("The access token is invalid")
        sid = claims.get("sid")
        username = claims.get("preferred_username")
        principal = Principal(
            user_id=user_id,
            roles=frozenset(roles),
            session_id=sid if isinstance(sid, str) else None,
            username=username if isinstance(username, str) else None,
            token_id=str(claims["jti"]),
        )
        return principal, float(claims["exp"])


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("An 'Authorization: Bearer <access token>' header is required")
    return token.strip()


class BearerAccess(HTTPBearer):
    """The access-token dependency, and the bearer scheme in OpenAPI (the docs' "Authorize").

    One object does both so that each request resolves a single dependency; the checks are ours,
    so every failure is the same 401 problem.
    """

    def __init__(self) -> None:
        super().__init__(
            bearerFormat="JWT",
            scheme_name="bearer",
            description="An access token from POST /auth/login",
            auto_error=False,
        )

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        verifier: TokenVerifier = request.app.state.ctx.verifier
        principal = verifier.verify_access(bearer_token(request))
        # The request's unit of work asks again before it commits (service.get_session).
        request.state.principal = principal
        return principal


get_principal = BearerAccess()


async def get_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden("This action needs the admin role")
    return principal


async def get_optional_principal(request: Request) -> Principal | None:
    """The caller if they sent a token (a bad one is still a 401), else None: for public reads
    that show the caller a little more (their own hidden review)."""
    if "authorization" not in request.headers:
        return None
    verifier: TokenVerifier = request.app.state.ctx.verifier
    principal = verifier.verify_access(bearer_token(request))
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]
AdminUser = Annotated[Principal, Depends(get_admin)]
OptionalUser = Annotated[Principal | None, Depends(get_optional_principal)]
