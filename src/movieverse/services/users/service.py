"""Users' business logic. Functions take the caller's session and never commit (rule 2).

Every function acts on the caller's own user id, taken from their verified access token; no
route accepts another user's id for private data, which is what keeps one user out of another's.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import new_event
from movieverse.contracts.users import PreferencesChanged, UserDeleted, UserListChanged
from movieverse.platform.catalog import Catalog
from movieverse.platform.db import after_commit, utcnow
from movieverse.platform.errors import Conflict, NotFound, Unauthorized
from movieverse.platform.events.outbox import Outbox
from movieverse.platform.pagination import Page, PageParams
from movieverse.platform.revocation import Revocations, user_revocation
from movieverse.platform.security import Principal
from movieverse.services.users.cache import ProfileCache
from movieverse.services.users.models import SERVICE, ListItem, ListKind, Profile, Tombstone
from movieverse.services.users.repository import ListRepository, ProfileRepository
from movieverse.services.users.schemas import (
    ListItemRead,
    ListItemWritten,
    NotificationSettings,
    Preferences,
    PreferencesUpdate,
    ProfileRead,
    ProfileUpdate,
    PublicProfile,
)


def _new_profile(user_id: UUID, username: str) -> Profile:
    now = utcnow()
    return Profile(
        user_id=user_id,
        username=username.lower(),
        favourite_genres=[],
        preferred_languages=[],
        include_adult=False,
        notification_settings=NotificationSettings().model_dump(),
        created_at=now,
        updated_at=now,
    )


async def _ensure_alive(profiles: ProfileRepository, principal: Principal) -> None:
    if await profiles.is_deleted(principal.user_id):
        raise Unauthorized("This account has been deleted")


async def _own_profile(
    session: AsyncSession, principal: Principal, *, create: bool
) -> Profile | None:
    profiles = ProfileRepository(session)
    await _ensure_alive(profiles, principal)
    profile = await profiles.get(principal.user_id)
    if profile is None and create:
        # The registration event has not arrived yet; the token names the user.
        if not principal.username:
            raise Conflict("The profile is not ready yet; retry in a moment")
        profile = await profiles.add_if_absent(_new_profile(principal.user_id, principal.username))
    return profile


def _profile_read(profile: Profile | None, principal: Principal) -> ProfileRead:
    if profile is None:
        return ProfileRead(
            user_id=str(principal.user_id),
            username=principal.username or "",
            display_name=None,
            bio=None,
            avatar_url=None,
            country=None,
            language=None,
            created_at=None,
            updated_at=None,
        )
    return ProfileRead(
        user_id=str(profile.user_id),
        username=profile.username,
        display_name=profile.display_name,
        bio=profile.bio,
        avatar_url=profile.avatar_url,
        country=profile.country,
        language=profile.language,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )


async def own_profile_json(
    session: AsyncSession, *, principal: Principal, cache: ProfileCache
) -> bytes:
    """The caller's profile as a JSON body, read from the database and cached."""
    profile = await _own_profile(session, principal, create=False)
    read = _profile_read(profile, principal)
    if profile is None:
        # Not created yet (the registration event is on its way): answer, but do not cache.
        return read.model_dump_json().encode()
    return await cache.put_profile(principal.user_id, read)


async def update_own_profile(
    session: AsyncSession, *, principal: Principal, changes: ProfileUpdate, cache: ProfileCache
) -> ProfileRead:
    profile = await _own_profile(session, principal, create=True)
    assert profile is not None
    cache.forget_after_commit(session, principal.user_id)
    values: dict[str, Any] = changes.model_dump(exclude_unset=True, mode="json")
    for field, value in values.items():
        setattr(profile, field, value)
    if values:
        profile.updated_at = utcnow()
    return _profile_read(profile, principal)


def _preferences(profile: Profile | None) -> Preferences:
    if profile is None:
        return Preferences(
            favourite_genres=[],
            preferred_languages=[],
            include_adult=False,
            notifications=NotificationSettings(),
        )
    return Preferences(
        favourite_genres=list(profile.favourite_genres or []),
        preferred_languages=list(profile.preferred_languages or []),
        include_adult=profile.include_adult,
        notifications=NotificationSettings.model_validate(profile.notification_settings or {}),
    )


async def get_preferences(session: AsyncSession, *, principal: Principal) -> Preferences:
    return _preferences(await _own_profile(session, principal, create=False))


async def update_preferences(
    session: AsyncSession, *, principal: Principal, changes: PreferencesUpdate, outbox: Outbox
) -> Preferences:
    profile = await _own_profile(session, principal, create=True)
    assert profile is not None
    if changes.favourite_genres is not None:
        profile.favourite_genres = list(dict.fromkeys(changes.favourite_genres))
    if changes.preferred_languages is not None:
        profile.preferred_languages = list(dict.fromkeys(changes.preferred_languages))
    if changes.include_adult is not None:
        profile.include_adult = changes.include_adult
    if changes.notifications is not None:
        profile.notification_settings = changes.notifications.model_dump()
    profile.updated_at = utcnow()
    preferences = _preferences(profile)
    # The whole state on every change, so a consumer needs only the latest event.
    payload = PreferencesChanged(
        user_id=principal.user_id,
        notifications=preferences.notifications.model_dump(),
        favourite_genres=preferences.favourite_genres,
        include_adult=preferences.include_adult,
    )
    await outbox.add(session, new_event(payload, producer=SERVICE, key=str(principal.user_id)))
    return preferences


async def public_profile(session: AsyncSession, *, username: str) -> PublicProfile:
    profile = await ProfileRepository(session).by_username(username)
    if profile is None:
        raise NotFound(f"No user named {username!r}")
    return PublicProfile(
        username=profile.username,
        display_name=profile.display_name,
        bio=profile.bio,
        avatar_url=profile.avatar_url,
        country=profile.country,
        member_since=profile.created_at,
    )


async def list_items(
    session: AsyncSession, *, principal: Principal, kind: ListKind, params: PageParams
) -> Page[ListItemRead]:
    await _ensure_alive(ProfileRepository(session), principal)
    lists = ListRepository(session)
    total = await lists.count(principal.user_id, kind)
    items = await lists.page(principal.user_id, kind, offset=params.offset, limit=params.per_page)
    results = [ListItemRead(movie_id=i.movie_id, added_at=i.added_at) for i in items]
    return Page[ListItemRead].build(params, total=total, results=results)


async def get_list_item(
    session: AsyncSession, *, principal: Principal, kind: ListKind, movie_id: int
) -> ListItemRead:
    await _ensure_alive(ProfileRepository(session), principal)
    item = await ListRepository(session).get(principal.user_id, kind, movie_id)
    if item is None:
        raise NotFound(f"Movie {movie_id} is not on your {kind.value}")
    return ListItemRead(movie_id=item.movie_id, added_at=item.added_at)


async def add_list_item(
    session: AsyncSession,
    *,
    principal: Principal,
    kind: ListKind,
    movie_id: int,
    outbox: Outbox,
    max_items: int,
    catalog: Catalog,
) -> ListItemWritten:
    await _ensure_alive(ProfileRepository(session), principal)
    lists = ListRepository(session)
    existing = await lists.get(principal.user_id, kind, movie_id)
    if existing is not None:
        return ListItemWritten(
            list=kind, movie_id=movie_id, added_at=existing.added_at, created=False
        )
    if await catalog.movie_exists(movie_id) is False:
        raise NotFound(f"No movie with id {movie_id} in the catalog")
    if await lists.count(principal.user_id, kind) >= max_items:
        raise Conflict(f"Your {kind.value} is full ({max_items} movies); remove some first")
    item = ListItem(user_id=principal.user_id, kind=kind, movie_id=movie_id, added_at=utcnow())
    await lists.add(item)
    await _list_changed(
        outbox=outbox,
        session=session,
        user_id=principal.user_id,
        kind=kind,
        movie_id=movie_id,
        action="added",
    )
    return ListItemWritten(list=kind, movie_id=movie_id, added_at=item.added_at, created=True)


async def remove_list_item(
    session: AsyncSession, *, principal: Principal, kind: ListKind, movie_id: int, outbox: Outbox
) -> None:
    await _ensure_alive(ProfileRepository(session), principal)
    if not await ListRepository(session).remove(principal.user_id, kind, movie_id):
        raise NotFound(f"Movie {movie_id} is not on your {kind.value}")
    await _list_changed(
        outbox=outbox,
        session=session,
        user_id=principal.user_id,
        kind=kind,
        movie_id=movie_id,
        action="removed",
    )


async def _list_changed(
    *,
    outbox: Outbox,
    session: AsyncSession,
    user_id: UUID,
    kind: ListKind,
    movie_id: int,
    action: str,
) -> None:
    payload = UserListChanged(user_id=user_id, list=kind.value, movie_id=movie_id, action=action)
    await outbox.add(session, new_event(payload, producer=SERVICE, key=str(user_id)))


async def delete_account(
    session: AsyncSession,
    *,
    principal: Principal,
    outbox: Outbox,
    cache: ProfileCache,
    revocations: Revocations,
) -> None:
    """Erase the profile and lists, remember the id, and tell the other services to erase theirs.

    Once this commits, the account's tokens are refused by every service: at once in this
    process and through the revocation store, and durably through the event."""
    cache.forget_after_commit(session, principal.user_id)
    profiles = ProfileRepository(session)
    await _ensure_alive(profiles, principal)
    profile = await profiles.get(principal.user_id)
    username = profile.username if profile else (principal.username or "")
    await ListRepository(session).delete_all(principal.user_id)
    await profiles.delete(principal.user_id)
    await profiles.add_tombstone(Tombstone(user_id=principal.user_id, deleted_at=utcnow()))
    payload = UserDeleted(user_id=principal.user_id, username=username)
    await outbox.add(session, new_event(payload, producer=SERVICE, key=str(principal.user_id)))

    async def revoke_now() -> None:
        await revocations.revoke([user_revocation(principal.user_id)])

    after_commit(session, revoke_now)


async def sweep_deleted_account(session: AsyncSession, *, user_id: UUID, outbox: Outbox) -> None:
    """The late second pass over a deleted account (platform/erasure.py): a write that was past
    its token check when the account went can have made a profile or a list entry since. List
    entries go with an event, as any removal does, so the services that copy lists follow."""
    lists = ListRepository(session)
    for item in await lists.all_of(user_id):
        await lists.remove(user_id, item.kind, item.movie_id)
        await _list_changed(
            outbox=outbox,
            session=session,
            user_id=user_id,
            kind=item.kind,
            movie_id=item.movie_id,
            action="removed",
        )
    await ProfileRepository(session).delete(user_id)


async def create_profile_for_account(
    session: AsyncSession, *, user_id: UUID, username: str
) -> None:
    """``auth.user.registered``: make the profile, unless a PATCH already did or it was deleted."""
    profiles = ProfileRepository(session)
    if await profiles.is_deleted(user_id) or await profiles.get(user_id) is not None:
        return
    await profiles.add_if_absent(_new_profile(user_id, username))
