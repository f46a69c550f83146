"""Auth's HTTP routes (thin: parse, call the service, shape the response).

The routes that hash or verify passwords own their units of work explicitly, so the hashing
happens between a short read and a short write instead of inside one long transaction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from movieverse.platform.assembly import CtxDep, SessionDep, runtime_dependency
from movieverse.platform.clientip import client_ip
from movieverse.platform.errors import Unauthorized
from movieverse.platform.ratelimit import per_address
from movieverse.platform.security import CurrentUser
from movieverse.services.auth import service
from movieverse.services.auth.bootstrap import AuthRuntime
from movieverse.services.auth.schemas import (
    AccountRead,
    ChangePasswordRequest,
    Jwks,
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
)
from movieverse.services.auth.service import AuthComponents

router = APIRouter(prefix="/auth", tags=["auth"])


async def get_auth(
    runtime: Annotated[AuthRuntime, Depends(runtime_dependency(AuthRuntime))],
) -> AuthComponents:
    return runtime.components


AuthDep = Annotated[AuthComponents, Depends(get_auth)]


def _account_read(account: object) -> AccountRead:
    return AccountRead.model_validate(account, from_attributes=True)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account",
    dependencies=[per_address("register")],
)
async def register(body: RegisterRequest, auth: AuthDep, ctx: CtxDep) -> AccountRead:
    new = await service.prepare_registration(
        auth, email=str(body.email), username=body.username, password=body.password
    )
    async with ctx.db.unit_of_work() as session:
        account = await service.register(session, auth, new)
    return _account_read(account)


@router.post("/login", summary="Sign in with email or username; returns a token pair")
async def login(body: LoginRequest, request: Request, auth: AuthDep, ctx: CtxDep) -> TokenPair:
    identifier = service.login_identifier(body.login)
    async with ctx.db.unit_of_work(write=False) as session:
        credentials = await service.credentials_for(session, identifier=identifier)
    verified = await service.verify_login(
        auth,
        identifier=identifier,
        credentials=credentials,
        password=body.password,
        client_ip=client_ip(request, ctx.trusted_proxies),
    )
    async with ctx.db.unit_of_work() as session:
        return await service.start_session(session, auth, verified)


@router.post("/refresh", summary="Exchange a refresh token for a new pair (rotation)")
async def refresh(body: RefreshRequest, auth: AuthDep, ctx: CtxDep) -> TokenPair:
    # This entrypoint owns its unit of work explicitly: a refused refresh must still commit
    # (the family revocation of a replayed token), and only then answer 401.
    async with ctx.db.unit_of_work() as session:
        outcome = await service.refresh(session, auth, refresh_token=body.refresh_token)
    if outcome.tokens is None:
        raise Unauthorized(outcome.refusal or "The refresh token is not valid")
    return outcome.tokens


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this session")
async def logout(
    principal: CurrentUser, session: SessionDep, auth: AuthDep, body: LogoutRequest | None = None
) -> Response:
    await service.logout(
        session, auth, principal=principal, refresh_token=body.refresh_token if body else None
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT, summary="End every session")
async def logout_all(principal: CurrentUser, session: SessionDep, auth: AuthDep) -> Response:
    await service.logout_all(session, auth, principal=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the password (ends every session)",
)
async def change_password(
    body: ChangePasswordRequest, principal: CurrentUser, auth: AuthDep, ctx: CtxDep
) -> Response:
    async with ctx.db.unit_of_work(write=False) as session:
        account = await service.current_account(session, principal=principal)
    change = await service.prepare_password_change(
        auth,
        account=account,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    async with ctx.db.unit_of_work() as session:
        await service.change_password(session, auth, change)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", summary="The signed-in account")
async def me(principal: CurrentUser, session: SessionDep) -> AccountRead:
    return _account_read(await service.current_account(session, principal=principal))


@router.get("/jwks", summary="Public keys that verify access tokens (JWKS)")
async def jwks(auth: AuthDep) -> Jwks:
    return Jwks(keys=auth.issuer.jwks())
