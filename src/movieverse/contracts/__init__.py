"""The events services publish to one another, one module per producing service.

Each payload is defined once, here: its producer builds it and every consumer reads it with the
same class. Payloads are tolerant readers (unknown fields are ignored), so a producer may add an
optional field without a version bump; removing or retyping a field, or adding a required one,
bumps ``event_version`` (tests/contract/test_event_contracts.py holds every version's schema and
fails on a breaking change made in place). ``envelope.py`` is the wire format around them.
The package imports nothing of movieverse but the datasets layer: the platform reads it too
(every service follows ``auth.session.revoked`` and ``users.user.deleted``).
"""
