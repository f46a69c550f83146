"""Auth's business logic. Functions take the caller's session and never commit (rule 2).

Password hashing and verification (argon2, tens of milliseconds of CPU each) never run inside a
transaction: the flows are split into a "prepare" step without storage and a short write.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.auth import PasswordChanged, SessionsRevoked, UserRegistered
from movieverse.contracts.envelope import new_event
from movieverse.platform.db import after_commit, utcnow
from movieverse.platform.errors import Conflict, Unauthorized, ValidationFailed
from movieverse.platform.events.outbox import Outbox
from movieverse.platform.revocation import (
    TOKEN_LEEWAY_SECONDS,
    Revocations,
    session_revocations,
)
from movieverse.platform.security import PasswordHasher, Principal
from movieverse.services.auth import policy
from movieverse.services.auth.models import SERVICE, Account
from movieverse.services.auth.repository import AccountRepository, ReleasedUsernameRepository
from movieverse.services.auth.schemas import TokenPair
from movieverse.services.auth.throttle import LoginThrottle
from movieverse.services.auth.tokens import (
    AccessTokenIssuer,
    Consumed,
    RefreshTokenStore,
    new_family_id,
    new_refresh_token,
)

log = structlog.get_logger("movieverse.auth")

# An access token is accepted for its lifetime plus the verifiers' leeway, and the clocks of the
# process that issued it, the one that verifies it and the one that ends its session can differ:
# a session that issued a token within the lifetime plus this margin may still have one valid.
LIVE_TOKEN_MARGIN = timedelta(seconds=TOKEN_LEEWAY_SECONDS + 60)


@dataclass(frozen=True)
class AuthComponents:
    """Auth's long-lived collaborators, made once in the service's lifespan."""

    hasher: PasswordHasher
    issuer: AccessTokenIssuer
    tokens: RefreshTokenStore
    throttle: LoginThrottle
    outbox: Outbox
    refresh_ttl: timedelta
    # Ended sessions, refused by every service of the deployment (platform/revocation.py).
    revocations: Revocations
    # How long a deleted account's username stays reserved.
    username_quarantine: timedelta
    # A real hash to verify against when the account does not exist, so that "no such user" and
    # "wrong password" take the same time and cannot be told apart.
    decoy_hash: str


@dataclass(frozen=True)
class NewAccount:
    """A registration that passed the rules, with its password already hashed."""

    email: str
    username: str
    password_hash: str


async def prepare_registration(
    auth: AuthComponents, *, email: str, username: str, password: str
) -> NewAccount:
    """Validate and hash. No storage is touched: the tens of milliseconds of argon2 must not be
    spent inside a transaction (on SQLite that would hold the write lock for all of them)."""
    email = policy.normalise_email(email)
    username = policy.normalise_username(username)
    problems = policy.username_problems(username) + policy.password_problems(
        password, username=username, email=email
    )
    if problems:
        raise ValidationFailed("The account details are not acceptable", errors=problems)
    return NewAccount(
        email=email, username=username, password_hash=await auth.hasher.hash(password)
    )


async def register(
    session: AsyncSession,
    auth: AuthComponents,
    new: NewAccount,
    *,
    roles: list[str] | None = None,
) -> Account:
    accounts = AccountRepository(session)
    if await accounts.by_email(new.email) is not None:
        raise Conflict("An account with this email address already exists")
    if await accounts.by_username(new.username) is not None:
        raise Conflict("This username is taken")
    await _ensure_not_quarantined(session, auth, new.username)
    now = utcnow()
    account = Account(
        id=uuid.uuid4(),
        email=new.email,
        username=new.username,
        password_hash=new.password_hash,
        roles=roles or ["user"],
        created_at=now,
        updated_at=now,
        password_changed_at=now,
    )
    try:
        await accounts.add(account)
    except IntegrityError as exc:  # lost a race with a concurrent registration
        raise Conflict("An account with this email address or username already exists") from exc
    payload = UserRegistered(user_id=account.id, username=new.username, email=new.email)
    await auth.outbox.add(session, new_event(payload, producer=SERVICE, key=str(account.id)))
    return account


@dataclass(frozen=True)
class Credentials:
    """What a sign-in needs of an account, read in a short read-only transaction."""

    account_id: uuid.UUID
    password_hash: str


@dataclass(frozen=True)
class VerifiedLogin:
    account_id: uuid.UUID
    # The stored hash the password was checked against. The check runs outside any transaction,
    # so the password may change before the session starts; the session starts only if this is
    # still the account's hash.
    verified_hash: str
    # Set when the stored hash used old parameters: the new hash, to store with the session.
    upgraded_hash: str | None


def login_identifier(login: str) -> str:
    return login.strip().lower()


async def credentials_for(session: AsyncSession, *, identifier: str) -> Credentials | None:
    account = await AccountRepository(session).by_login(identifier)
    if account is None:
        return None
    return Credentials(account_id=account.id, password_hash=account.password_hash)


async def verify_login(
    auth: AuthComponents,
    *,
    identifier: str,
    credentials: Credentials | None,
    password: str,
    client_ip: str,
) -> VerifiedLogin:
    """Throttle, then check the password (outside any transaction). Raises 429 or 401.

    Failures count against the account, whichever of its username or email was typed (else the
    two would double the guesses), and against the client address. A login that names no
    account counts against what was typed: there is nothing else to count against."""
    subject = f"account:{credentials.account_id}" if credentials else f"login:{identifier}"
    await auth.throttle.check(account=subject, ip=client_ip)
    valid = await auth.hasher.verify(
        credentials.password_hash if credentials else auth.decoy_hash, password
    )
    if credentials is None or not valid:
        await auth.throttle.record_failure(account=subject, ip=client_ip)
        log.info("login_failed", known_account=credentials is not None)
        raise Unauthorized("The login or password is incorrect")
    await auth.throttle.record_success(account=subject)
    upgraded = None
    if auth.hasher.needs_rehash(credentials.password_hash):
        upgraded = await auth.hasher.hash(password)
    return VerifiedLogin(
        account_id=credentials.account_id,
        verified_hash=credentials.password_hash,
        upgraded_hash=upgraded,
    )


async def start_session(
    session: AsyncSession, auth: AuthComponents, verified: VerifiedLogin
) -> TokenPair:
    """Start the session of a verified login -- unless the password changed since the check.

    A password change ends every session; a login checked against the old password and started
    after that change would outlive it (and store its upgraded hash of the old password over the
    new one). The account row stays locked from this comparison to the commit, so a change
    cannot slip in between either."""
    account = await AccountRepository(session).get_for_update(verified.account_id)
    # Gone (deleted since the check) or a different password now: the same answer as a wrong
    # password, which is what the password now is.
    if account is None or account.password_hash != verified.verified_hash:
        raise Unauthorized("The login or password is incorrect")
    if verified.upgraded_hash is not None:
        account.password_hash = verified.upgraded_hash
        account.updated_at = utcnow()
    family_id = new_family_id()
    await auth.tokens.start_family(session, account_id=account.id, family_id=family_id)
    return await _issue_pair(session, auth, account, family_id)


@dataclass(frozen=True)
class RefreshOutcome:
    """A rotation's result. A refusal is returned, not raised, so that the entrypoint commits what
    it changed -- above all the revocation of a family whose spent token came back."""

    tokens: TokenPair | None
    refusal: str | None = None


async def refresh(
    session: AsyncSession, auth: AuthComponents, *, refresh_token: str
) -> RefreshOutcome:
    result = await auth.tokens.consume(session, refresh_token)
    if result.outcome is Consumed.REUSED:
        log.warning("refresh_token_reuse", family_id=result.family_id)
        if result.family_id and result.account_id:
            # The thief may hold an access token of this session too: it ends with the session.
            await _end_sessions(
                session,
                auth,
                user_id=result.account_id,
                session_ids=[result.family_id],
                reason="reuse-detected",
            )
        return RefreshOutcome(None, "This refresh token was already used; the session has ended")
    if result.outcome is not Consumed.OK or result.account_id is None or not result.family_id:
        return RefreshOutcome(None, "The refresh token is invalid, expired or revoked")
    account = await AccountRepository(session).get(result.account_id)
    if account is None:
        await auth.tokens.revoke_family(session, result.family_id, reason="account-gone")
        return RefreshOutcome(None, "The account no longer exists")
    return RefreshOutcome(await _issue_pair(session, auth, account, result.family_id))


async def logout(
    session: AsyncSession,
    auth: AuthComponents,
    *,
    principal: Principal,
    refresh_token: str | None,
) -> None:
    families = {principal.session_id} if principal.session_id else set()
    if refresh_token:
        family = await auth.tokens.family_of(session, refresh_token)
        if family:
            families.add(family)
    for family in families:
        await auth.tokens.revoke_family(session, family, reason="logout")
    await _end_sessions(
        session, auth, user_id=principal.user_id, session_ids=sorted(families), reason="logout"
    )


async def logout_all(session: AsyncSession, auth: AuthComponents, *, principal: Principal) -> None:
    await _end_every_session(session, auth, user_id=principal.user_id, reason="logout-all")


async def _end_every_session(
    session: AsyncSession, auth: AuthComponents, *, user_id: uuid.UUID, reason: str
) -> None:
    """End every session of the account: no refresh token of any works again, and the access
    tokens still valid are refused everywhere.

    Only sessions that issued a token lately can have a valid access token, so only those are
    named in the revocation (an event every process applies): an account that signed in 100,000
    times without logging out must not send 100,000 ids. The rest are ended in the token store,
    which is all they need. The revocation comes first so that a refresh under way meanwhile is
    either refused or listed (RefreshTokenStore.families_issued_since)."""
    await auth.tokens.revoke_account(session, user_id, reason=reason)
    since = utcnow() - auth.issuer.ttl - LIVE_TOKEN_MARGIN
    families = await auth.tokens.families_issued_since(session, user_id, since=since)
    await _end_sessions(session, auth, user_id=user_id, session_ids=sorted(families), reason=reason)


async def _end_sessions(
    session: AsyncSession,
    auth: AuthComponents,
    *,
    user_id: uuid.UUID,
    session_ids: list[str],
    reason: str,
) -> None:
    """Make the sessions' access tokens refused everywhere: an event in this transaction (the
    durable path), and once it commits, this process's list and the deployment's store."""
    if not session_ids:
        return
    revocations = session_revocations(session_ids, ttl_seconds=auth.issuer.ttl.total_seconds())
    payload = SessionsRevoked(
        user_id=user_id, session_ids=session_ids, until=revocations[0].until, reason=reason
    )
    await auth.outbox.add(session, new_event(payload, producer=SERVICE, key=str(user_id)))

    async def revoke_now() -> None:
        await auth.revocations.revoke(revocations)

    after_commit(session, revoke_now)


@dataclass(frozen=True)
class PasswordChange:
    account_id: uuid.UUID
    new_hash: str
    # The hash the current password was checked against: the change applies only while it is
    # still the stored one (two changes checked against the same old password: one wins).
    checked_hash: str


async def prepare_password_change(
    auth: AuthComponents,
    *,
    account: Account,
    current_password: str,
    new_password: str,
) -> PasswordChange:
    """Check the current password and the new one's quality, and hash it -- outside any
    transaction, like every argon2 computation."""
    if not await auth.hasher.verify(account.password_hash, current_password):
        raise Unauthorized("The current password is incorrect")
    problems = policy.password_problems(
        new_password, username=account.username, email=account.email, field="body.new_password"
    )
    if problems:
        raise ValidationFailed("The new password is not acceptable", errors=problems)
    return PasswordChange(
        account_id=account.id,
        new_hash=await auth.hasher.hash(new_password),
        checked_hash=account.password_hash,
    )


async def change_password(
    session: AsyncSession, auth: AuthComponents, change: PasswordChange
) -> None:
    account = await AccountRepository(session).get_for_update(change.account_id)
    if account is None:
        raise Unauthorized("The account no longer exists")
    if account.password_hash != change.checked_hash:
        # Changed since the current password was checked (another change won the race): the
        # password this request proved is no longer the account's.
        raise Unauthorized("The current password is incorrect")
    now = utcnow()
    account.password_hash = change.new_hash
    account.password_changed_at = now
    account.updated_at = now
    # Write the new hash before the sessions are ended: the write waits for (or makes wait) a
    # login starting its session on the account's locked row, so every session that login
    # starts is there to be ended below, and none starts on the old password afterwards.
    await session.flush()
    await auth.outbox.add(
        session,
        new_event(PasswordChanged(user_id=account.id), producer=SERVICE, key=str(account.id)),
    )
    await _end_every_session(session, auth, user_id=account.id, reason="password-changed")


async def current_account(session: AsyncSession, *, principal: Principal) -> Account:
    account = await AccountRepository(session).get(principal.user_id)
    if account is None:
        raise Unauthorized("The account no longer exists")
    return account


async def erase_account(session: AsyncSession, auth: AuthComponents, *, user_id: uuid.UUID) -> None:
    """The user deleted their account (``users.user.deleted``): forget credentials and sessions,
    and hold the username back for the quarantine."""
    accounts = AccountRepository(session)
    account = await accounts.get(user_id)
    if account is not None and auth.username_quarantine > timedelta(0):
        await ReleasedUsernameRepository(session).release(account.username, utcnow())
    await accounts.delete(user_id)
    await auth.tokens.revoke_account(session, user_id, reason="account-deleted")


async def _ensure_not_quarantined(
    session: AsyncSession, auth: AuthComponents, username: str
) -> None:
    released_at = await ReleasedUsernameRepository(session).released_at(username)
    if released_at is None:
        return
    free_from = released_at + auth.username_quarantine
    if utcnow() < free_from:
        raise Conflict(
            "This username belonged to a deleted account and is reserved until "
            f"{free_from.date().isoformat()}"
        )


async def grant_admin(
    session: AsyncSession, auth: AuthComponents, *, email: str, username: str, password: str
) -> Account:
    """Create an administrator, or give an existing account with that email the admin role.

    A command-line entrypoint: one transaction, hashing included, is fine here.
    """
    existing = await AccountRepository(session).by_email(policy.normalise_email(email))
    if existing is not None:
        if "admin" not in existing.roles:
            existing.roles = [*existing.roles, "admin"]
            existing.updated_at = utcnow()
        return existing
    new = await prepare_registration(auth, email=email, username=username, password=password)
    return await register(session, auth, new, roles=["user", "admin"])


async def _issue_pair(
    session: AsyncSession, auth: AuthComponents, account: Account, family_id: str
) -> TokenPair:
    refresh_token = new_refresh_token()
    await auth.tokens.issue(
        session,
        account_id=account.id,
        family_id=family_id,
        token=refresh_token,
        expires_at=utcnow() + auth.refresh_ttl,
    )
    access, expires_in = auth.issuer.issue(
        user_id=account.id, username=account.username, roles=account.roles, session_id=family_id
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=expires_in,
        refresh_expires_in=int(auth.refresh_ttl.total_seconds()),
    )
