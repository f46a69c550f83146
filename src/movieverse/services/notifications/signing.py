"""Webhook signatures: HMAC-SHA256 over the timestamp and the body, so a receiver can tell a
delivery is ours and fresh (a replayed one carries an old timestamp, and changing the timestamp
breaks the signature).

    X-MovieVerse-Timestamp: 1796117297
    X-MovieVerse-Signature: v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd

The signed text is ``f"{timestamp}."`` followed by the raw body bytes; the key is the webhook's
secret. A receiver recomputes it, compares in constant time, and refuses a timestamp more than a
few minutes away from its clock (:func:`verify` does all three).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TIMESTAMP_HEADER = "X-MovieVerse-Timestamp"
SIGNATURE_HEADER = "X-MovieVerse-Signature"
SCHEME = "v1"


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={digest.hexdigest()}"


def verify(
    secret: str, *, timestamp: str, signature: str, body: bytes, now: float, tolerance: float
) -> bool:
    """Whether a delivery is genuine and fresh."""
    if not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)
