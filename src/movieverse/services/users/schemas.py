"""Users' request and response models."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from movieverse.services.users.models import ListKind

_WRITE = ConfigDict(extra="forbid")
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
LanguageTag = Annotated[str, StringConstraints(max_length=35)]
GenreId = Annotated[int, Field(ge=1, le=2**31 - 1)]
MovieId = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _check_language(value: str) -> str:
    if not _LANGUAGE_RE.fullmatch(value):
        raise ValueError("use a BCP 47 language tag such as 'en' or 'pt-BR'")
    return value


class ProfileUpdate(BaseModel):
    """Partial update: only the fields sent change; ``null`` clears a field."""

    model_config = _WRITE

    display_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = (
        None
    )
    bio: Annotated[str, StringConstraints(max_length=2000)] | None = None
    avatar_url: AnyHttpUrl | None = Field(default=None, max_length=2048)
    country: CountryCode | None = Field(default=None, description="ISO 3166-1 alpha-2, e.g. 'PT'")
    language: LanguageTag | None = Field(default=None, description="BCP 47 tag, e.g. 'pt-BR'")

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return None if value is None else _check_language(value)


class NotificationSettings(BaseModel):
    """Channels (in app, email) and what to be told of; notifications keeps a copy."""

    model_config = _WRITE

    in_app: bool = True
    email: bool = False
    review_likes: bool = True
    review_comments: bool = True
    new_followers: bool = True
    recommendations_digest: bool = False
    # A digest of new reviews of movies on your watchlist.
    watchlist_reviews: bool = True
    # A movie on your watchlist got a release date, or came out.
    watchlist_releases: bool = True
    # Announcements from the site's admins.
    broadcasts: bool = True


class PreferencesUpdate(BaseModel):
    model_config = _WRITE

    favourite_genres: list[GenreId] | None = Field(default=None, max_length=50)
    preferred_languages: list[LanguageTag] | None = Field(default=None, max_length=20)
    include_adult: bool | None = None
    notifications: NotificationSettings | None = None

    @field_validator("preferred_languages")
    @classmethod
    def _languages(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_check_language(v) for v in value]


class Preferences(BaseModel):
    favourite_genres: list[int]
    preferred_languages: list[str]
    include_adult: bool
    notifications: NotificationSettings


class ProfileRead(BaseModel):
    """The owner's own view of their profile."""

    user_id: str
    username: str
    display_name: str | None
    bio: str | None
    avatar_url: str | None
    country: str | None
    language: str | None
    created_at: datetime | None
    updated_at: datetime | None


class PublicProfile(BaseModel):
    """What anyone may see of a user: no ids, settings or lists."""

    username: str
    display_name: str | None
    bio: str | None
    avatar_url: str | None
    country: str | None
    member_since: datetime


class ListItemRead(BaseModel):
    movie_id: int
    added_at: datetime


class ListItemWritten(BaseModel):
    list: ListKind
    movie_id: int
    added_at: datetime
    created: bool = Field(description="False when the movie was already on the list")
