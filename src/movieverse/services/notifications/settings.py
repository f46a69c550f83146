"""Notifications' own settings (prefix ``MOVIEVERSE_NOTIFICATIONS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from movieverse.platform.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MOVIEVERSE_NOTIFICATIONS_", extra="ignore")

    # Where email goes: smtp://[user:password@]host:port (smtps:// for TLS). None: no email.
    smtp_url: str | None = Field(default=None, pattern=r"^smtps?://")
    mail_from: str = Field(default="MovieVerse <no-reply@movieverse.local>", max_length=200)
    # Links in emails start with it.
    site_url: str = Field(default="http://127.0.0.1:8000", max_length=200)

    # The delivery worker (email, webhooks, digests, release news): in the service's own process
    # (the embedded shape), or only in `movieverse worker notifications` when false.
    run_worker: bool = True
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=60)

    # A like undone and redone (by the same user, of the same review) within this long of the
    # notification it made makes no new one (nor email, nor webhook delivery); 0: every like does.
    dedup_window_seconds: float = Field(default=86400, ge=0, le=30 * 86400)

    # New reviews of watched movies are gathered this long into one digest.
    digest_seconds: float = Field(default=3600, gt=0, le=7 * 86400)

    # Webhook deliveries: attempts, the first retry's wait (doubling after), and how many
    # failed deliveries in a row disable the webhook.
    webhook_attempts: int = Field(default=6, ge=1, le=20)
    webhook_retry_seconds: float = Field(default=10, gt=0, le=3600)
    webhook_disable_after: int = Field(default=5, ge=1, le=100)
    webhook_timeout_seconds: float = Field(default=5, gt=0, le=60)
    # Loopback and private addresses are refused as webhook targets in production (a server
    # must not be made to call into its own network); None: allowed outside production.
    webhook_private_targets: bool | None = None
    # How far a receiver may trust a signed timestamp (it should refuse older ones).
    webhook_tolerance_seconds: int = Field(default=300, ge=30, le=3600)
