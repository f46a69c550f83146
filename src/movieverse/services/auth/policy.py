"""Who may register with what: username, email and password rules."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from movieverse.platform.errors import FieldError

USERNAME_RE = re.compile(r"^[a-z0-9_]{3,30}$")
MIN_PASSWORD_LENGTH = 10
# Names that would read as official or clash with routes and system accounts.
RESERVED_USERNAMES = frozenset(
    {"admin", "administrator", "root", "system", "support", "moderator", "movieverse", "null",
     "undefined", "anonymous", "staff", "security", "api", "www"}
)  # fmt: skip


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("movieverse.services.auth").joinpath("data/common-passwords.txt")
    lines = text.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def normalise_username(username: str) -> str:
    return username.strip().lower()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def username_problems(username: str) -> list[FieldError]:
    if not USERNAME_RE.fullmatch(username):
        return [
            FieldError(
                field="body.username",
                message="Use 3-30 characters: lower-case letters, digits and underscores",
                code="username_format",
            )
        ]
    if username in RESERVED_USERNAMES:
        return [
            FieldError(field="body.username", message="This username is reserved", code="reserved")
        ]
    return []


def password_problems(
    password: str, *, username: str, email: str, field: str = "body.password"
) -> list[FieldError]:
    problems: list[FieldError] = []
    lowered = password.lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            FieldError(
                field=field,
                message=f"Use at least {MIN_PASSWORD_LENGTH} characters",
                code="password_too_short",
            )
        )
    if lowered in common_passwords():
        problems.append(
            FieldError(
                field=field,
                message="This password is among the most common ones; choose another",
                code="password_common",
            )
        )
    email_name = email.split("@", 1)[0].lower()
    personal = [p for p in (username.lower(), email_name) if len(p) >= 3]
    if any(p in lowered for p in personal):
        problems.append(
            FieldError(
                field=field,
                message="The password must not contain your username or email name",
                code="password_personal",
            )
        )
    return problems
