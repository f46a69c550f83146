"""Auth's request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

# Writes reject unknown fields: a typo in a field name is an error, not a silent no-op.
_WRITE = ConfigDict(extra="forbid", str_strip_whitespace=False)


class RegisterRequest(BaseModel):
    model_config = _WRITE

    email: EmailStr = Field(max_length=254)
    username: str = Field(min_length=3, max_length=30, examples=["cinephile_42"])
    password: str = Field(min_length=1, max_length=256)


class LoginRequest(BaseModel):
    model_config = _WRITE

    login: str = Field(
        min_length=1, max_length=254, description="Email address or username", examples=["ana"]
    )
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    model_config = _WRITE

    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutRequest(BaseModel):
    model_config = _WRITE

    refresh_token: str | None = Field(
        default=None,
        max_length=200,
        description="Optional: the session's refresh token, to end it even if the access token "
        "belongs to another session",
    )


class ChangePasswordRequest(BaseModel):
    model_config = _WRITE

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class AccountRead(BaseModel):
    id: UUID
    email: str
    username: str
    roles: list[str]
    created_at: datetime


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 -- OAuth token type
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires")


class Jwks(BaseModel):
    keys: list[dict[str, Any]]
