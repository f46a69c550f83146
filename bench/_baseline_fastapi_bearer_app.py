"""The floor for bench/users_me.py: a bare FastAPI route behind one bearer-token dependency.

What a minimal authenticated route does, and nothing more: FastAPI's ``HTTPBearer`` reads the
``Authorization`` header, the dependency verifies the JWT with PyJWT on every request (the key,
algorithm, issuer, audience and required claims ``movieverse up`` checks, read from the same
MOVIEVERSE_* environment: a token MovieVerse issued passes here too), and the route answers a
small JSON object from the claims. No cache, no revocation list, no database.

Served by the very function ``movieverse up`` serves with
(``movieverse.cli.servers.serve_app``: uvicorn, uvloop + httptools, one worker, no access log,
no server header, the heap frozen after start-up),
so what ``GET /users/me`` costs beyond it is the app's, not the server's::

    .venv/bin/python bench/_baseline_fastapi_bearer_app.py --port 8765
"""

from __future__ import annotations

import argparse
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from movieverse.cli.servers import serve_app
from movieverse.platform.security import verification_key
from movieverse.platform.settings import PlatformSettings

REQUIRED_CLAIMS = ["sub", "typ", "jti", "iat", "exp", "iss", "aud"]

settings = PlatformSettings()
app = FastAPI()
bearer = HTTPBearer()


class TokenCheck:
    """The verification key, loaded once (as a real service does in its start-up)."""

    key: Any = None


async def current_claims(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            credentials.credentials,
            TokenCheck.key,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token") from exc
    return claims


@app.get("/users/me")
async def me(claims: Annotated[dict[str, Any], Depends(current_claims)]) -> dict[str, Any]:
    return {"user_id": claims["sub"], "username": claims.get("preferred_username")}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Bare FastAPI route with one bearer-JWT dependency, served as movieverse up"
    )
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    TokenCheck.key = verification_key(settings)
    serve_app(app, host="127.0.0.1", port=args.port, settings=settings)


if __name__ == "__main__":
    main()
