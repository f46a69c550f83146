"""Users' HTTP routes (thin: parse, call the service, shape the response).

Private data lives only under ``/users/me``: the user is whoever the access token says, so there is
no id in any private route for a caller to swap.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from movieverse.platform.assembly import (
    CtxDep,
    ServiceContext,
    SessionDep,
    runtime_dependency,
    runtime_of,
)
from movieverse.platform.pagination import Page, PageDep
from movieverse.platform.ratelimit import per_user
from movieverse.platform.security import CurrentUser
from movieverse.services.users import service
from movieverse.services.users.bootstrap import UsersRuntime
from movieverse.services.users.cache import ProfileCache
from movieverse.services.users.models import ListKind
from movieverse.services.users.schemas import (
    ListItemRead,
    ListItemWritten,
    Preferences,
    PreferencesUpdate,
    ProfileRead,
    ProfileUpdate,
    PublicProfile,
)

router = APIRouter(prefix="/users", tags=["users"])

MovieIdPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="Catalog movie id")]
UsernamePath = Annotated[str, Path(min_length=3, max_length=30, pattern=r"^[A-Za-z0-9_]+$")]


Runtime = Annotated[UsersRuntime, Depends(runtime_dependency(UsersRuntime))]


async def get_profile_cache(runtime: Runtime) -> ProfileCache:
    return runtime.profiles


ProfileCacheDep = Annotated[ProfileCache, Depends(get_profile_cache)]


@router.get("/me", summary="Your profile", response_model=ProfileRead)
async def get_me(principal: CurrentUser, request: Request) -> Response:
    # The hottest route, kept lean: one dependency (the token), no database session on a cache
    # hit, and a ready-made body that skips serialisation. A miss opens a read-only unit of work.
    ctx: ServiceContext = request.app.state.ctx
    cache = runtime_of(ctx, UsersRuntime).profiles
    body = await cache.get(principal.user_id)
    if body is None:
        async with ctx.db.unit_of_work(write=False) as session:
            body = await service.own_profile_json(session, principal=principal, cache=cache)
    return Response(body, media_type="application/json")


@router.patch("/me", summary="Update your profile (only the fields sent)")
async def patch_me(
    body: ProfileUpdate, principal: CurrentUser, session: SessionDep, cache: ProfileCacheDep
) -> ProfileRead:
    return await service.update_own_profile(session, principal=principal, changes=body, cache=cache)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete your account: profile, lists, and (via events) everything else",
)
async def delete_me(
    principal: CurrentUser, session: SessionDep, ctx: CtxDep, cache: ProfileCacheDep
) -> Response:
    await service.delete_account(
        session,
        principal=principal,
        outbox=ctx.outbox,
        cache=cache,
        revocations=ctx.shared.revocations,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/preferences", summary="Your preferences")
async def get_preferences(principal: CurrentUser, session: SessionDep) -> Preferences:
    return await service.get_preferences(session, principal=principal)


@router.patch("/me/preferences", summary="Update your preferences (only the fields sent)")
async def patch_preferences(
    body: PreferencesUpdate, principal: CurrentUser, session: SessionDep, ctx: CtxDep
) -> Preferences:
    return await service.update_preferences(
        session, principal=principal, changes=body, outbox=ctx.outbox
    )


@router.get("/me/{list_kind}", summary="A page of one of your lists, newest first")
async def get_list(
    list_kind: ListKind, principal: CurrentUser, session: SessionDep, page: PageDep
) -> Page[ListItemRead]:
    return await service.list_items(session, principal=principal, kind=list_kind, params=page)


@router.get("/me/{list_kind}/{movie_id}", summary="Whether a movie is on one of your lists")
async def get_list_item(
    list_kind: ListKind, movie_id: MovieIdPath, principal: CurrentUser, session: SessionDep
) -> ListItemRead:
    return await service.get_list_item(
        session, principal=principal, kind=list_kind, movie_id=movie_id
    )


@router.put(
    "/me/{list_kind}/{movie_id}",
    summary="Add a movie to one of your lists (idempotent)",
    responses={201: {"model": ListItemWritten}},
    dependencies=[per_user("list")],
)
async def put_list_item(
    list_kind: ListKind,
    movie_id: MovieIdPath,
    principal: CurrentUser,
    session: SessionDep,
    ctx: CtxDep,
    runtime: Runtime,
    response: Response,
) -> ListItemWritten:
    written = await service.add_list_item(
        session,
        principal=principal,
        kind=list_kind,
        movie_id=movie_id,
        outbox=ctx.outbox,
        max_items=runtime.settings.max_list_items,
        catalog=runtime.catalog,
    )
    response.status_code = status.HTTP_201_CREATED if written.created else status.HTTP_200_OK
    return written


@router.delete(
    "/me/{list_kind}/{movie_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a movie from one of your lists",
    dependencies=[per_user("list")],
)
async def delete_list_item(
    list_kind: ListKind,
    movie_id: MovieIdPath,
    principal: CurrentUser,
    session: SessionDep,
    ctx: CtxDep,
) -> Response:
    await service.remove_list_item(
        session, principal=principal, kind=list_kind, movie_id=movie_id, outbox=ctx.outbox
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{username}", summary="A user's public profile")
async def get_public_profile(username: UsernamePath, session: SessionDep) -> PublicProfile:
    return await service.public_profile(session, username=username)
