"""Hostile input, generated from our own OpenAPI document, against the real server.

Schemathesis generates valid and invalid requests for every operation (wrong types, missing and
extra fields, huge numbers, odd strings). Whatever arrives, the answer is never a 5xx, and every
error is an RFC 9457 problem whose status matches the response's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from tests.e2e.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    # Cheap hashing keeps the many generated logins fast; the logic under test is the same.
    running = start_server(
        folder,
        MOVIEVERSE_AUTH_ARGON2_MEMORY_KIB="64",
        MOVIEVERSE_AUTH_ARGON2_TIME_COST="1",
        # Every generated login comes from 127.0.0.1; without this the per-IP brake (rightly)
        # locks out the fixture's own sign-ins.
        MOVIEVERSE_AUTH_LOGIN_IP_THRESHOLD="1000000",
        # Likewise the sign-up quota per address (10 a minute): the fixture signs up once per
        # operation. Generated calls may still meet other quotas; a 429 problem passes the checks.
        MOVIEVERSE_RATE_LIMIT_REGISTER_IP="1000000/minute",
    )
    try:
        yield running
    finally:
        stop_server(running)


def _signed_in(fuzz_server: Server) -> dict[str, str]:
    """A fresh account per operation, so one operation (DELETE /users/me) cannot starve others."""
    name = f"f{uuid.uuid4().hex[:12]}"
    password = "fuzzing-the-gates-42"
    with httpx.Client(base_url=fuzz_server.base_url, timeout=10) as client:
        client.post(
            "/auth/register",
            json={"email": f"{name}@example.org", "username": name, "password": password},
        ).raise_for_status()
        tokens = client.post("/auth/login", json={"login": name, "password": password})
        tokens.raise_for_status()
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


@schemathesis.check
def errors_are_problem_details(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/problem+json"), content_type
    body = json.loads(response.content)
    assert body["status"] == response.status_code, body
    assert body["title"], body
    return True


# A stream that answers 200 never ends, so a generated call cannot be validated; its bad input
# (no token, an over-long Last-Event-ID) is checked in tests/e2e/test_stream.py instead.
ENDLESS = frozenset({"GET /notifications/stream"})


def _operations(server: Server) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"our OpenAPI document is invalid: {result.err()}"
        if result.ok().label in ENDLESS:
            continue
        operations.append(result.ok())
    assert len(operations) >= 18, [op.label for op in operations]  # every auth and users route
    return operations


# Schemathesis' pytest plugin does not run under pytest 9 yet, so the strategies are driven by
# Hypothesis directly: one test per generation mode, every operation inside it.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_breaks_the_api(fuzz_server: Server, mode: GenerationMode) -> None:
    fuzzed = [op.label for op in _operations(fuzz_server) if _fuzz(fuzz_server, op, mode)]
    # Operations without any input (GET /auth/jwks) have no invalid form; all others must.
    assert len(fuzzed) >= (18 if mode is GenerationMode.POSITIVE else 14), fuzzed


def _fuzz(server: Server, operation: Any, mode: GenerationMode) -> bool:
    """Run the generated cases of one operation; False if the mode can generate none."""
    headers = _signed_in(server)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def exercise(case: Any) -> None:
        case.call_and_validate(
            base_url=server.base_url,
            headers=headers,
            checks=[not_a_server_error, errors_are_problem_details],
        )

    try:
        exercise()
    except Unsatisfiable:
        return False
    except Exception as exc:
        raise AssertionError(f"{operation.label} ({mode.value}): {exc}") from exc
    return True
