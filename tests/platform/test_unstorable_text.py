"""Text no store can hold (an unpaired UTF-16 surrogate) is a 422 on every write, never a 500.

JSON's ``"\\ud800"`` parses to a string no UTF-8 encoder accepts: SQLite and PostgreSQL failed in
the middle of the write. The platform's request middleware refuses such a body before a service
sees it (platform/unstorable.py).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from movieverse.gateway.app import Gateway
from movieverse.platform.unstorable import (
    MAX_REPORTED_FIELDS,
    UNSTORABLE_CODE,
    is_json_media_type,
    unstorable_fields,
)
from tests.openapi_samples import Samples, operations
from tests.support import Account, admin_account, eventually, signed_up

LONE_HIGH = "\ud800"
LONE_LOW = "\udc00"
JSON = {"Content-Type": "application/json"}


def _raw(document: Any) -> bytes:
    """The document as JSON with every non-ASCII character escaped -- how a lone surrogate
    reaches a server (httpx cannot encode one as UTF-8)."""
    return json.dumps(document, ensure_ascii=True).encode()


def _fields(body: bytes) -> list[str]:
    return [error.field for error in unstorable_fields(body)]


# The detector


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b'{"title": "fine"}', []),
        (rb'{"title": "\ud800"}', ["body.title"]),
        (rb'{"title": "x\uDC00y"}', ["body.title"]),
        (rb'{"title": "\ud83c\udfac paired"}', []),  # an emoji, escaped
        (rb'{"title": "\udfac\ud83c"}', ["body.title"]),  # a pair the wrong way round
        (rb'{"title": "\\ud800"}', []),  # an escaped backslash: the text is "\ud800"
        (rb'{"title": "\\\ud800"}', ["body.title"]),  # a backslash, then a lone surrogate
        (rb'{"a": [{"b": "ok"}, {"b": "\ud800"}], "c": "\udfff"}', ["body.a.1.b", "body.c"]),
        (rb'{"\ud800": "value"}', ["body.\\ud800"]),  # a field's name, printable in the answer
        (rb'"\ud800"', ["body"]),
        (rb'{"title": "\ud800"', []),  # not JSON: the service answers 400
        (b"", []),
        (b'{"title": "\xed\xa0\x80"}', ["body.title"]),  # encoded, not escaped: no UTF-8
        (b'{"title": "\xed\x9f\xbf"}', []),  # U+D7FF, the last character before them
        ('{"title": "\\ud800"}'.encode("utf-16"), ["body.title"]),  # json.loads reads UTF-16
        ('{"title": "\\udc00"}'.encode("utf-16-be"), ["body.title"]),  # no BOM
        ('{"title": "\\ud800"}'.encode("utf-32-le"), ["body.title"]),
        ('{"title": "\\ud83c\\udfac"}'.encode("utf-16-le"), []),
    ],
)
def test_detector_finds_exactly_the_unpaired_surrogates(body: bytes, fields: list[str]) -> None:
    assert _fields(body) == fields


def test_detector_reports_a_bounded_number_of_fields() -> None:
    body = _raw({f"f{i}": LONE_HIGH for i in range(100)})
    assert _fields(body) == [f"body.f{i}" for i in range(MAX_REPORTED_FIELDS)]


def test_detector_survives_deep_nesting() -> None:
    deep = b"[" * 100_000 + rb'"\ud800"' + b"]" * 100_000
    assert _fields(deep) == []  # too deep for json.loads: the service answers (400)


@pytest.mark.parametrize(
    ("content_type", "is_json"),
    [
        (b"application/json", True),
        (b"Application/JSON; charset=utf-8", True),
        (b"application/merge-patch+json", True),
        (b"text/plain", False),
        (b"application/x-www-form-urlencoded", False),
        (b"", False),
    ],
)
def test_json_media_types_are_the_ones_fastapi_parses(content_type: bytes, is_json: bool) -> None:
    assert is_json_media_type(content_type) is is_json


# Through the gateway


def _assert_unstorable(response: httpx.Response, fields: list[str]) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:movieverse:problem:validation-error"
    assert problem["title"] == "Invalid input"
    assert problem["status"] == 422
    assert problem["instance"] == response.request.url.path
    assert [e["field"] for e in problem["errors"]] == fields
    assert {e["code"] for e in problem["errors"]} == {UNSTORABLE_CODE}
    assert all("unpaired UTF-16 surrogate" in e["message"] for e in problem["errors"])


async def _review(client: httpx.AsyncClient, account: Account, **fields: Any) -> dict[str, Any]:
    response = await client.post("/movies/7/reviews", json=fields, headers=account.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_review_with_a_lone_surrogate_is_422_on_create_and_edit(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    _, client = gateway
    ana = await signed_up(client, "ana_surrogate")
    headers = {**ana.headers, **JSON}
    for fields, named in [
        ({"title": f"Heat {LONE_HIGH}", "body": "fine"}, ["body.title"]),
        ({"title": "fine", "body": f"Mann {LONE_LOW} at his best"}, ["body.body"]),
        ({"title": LONE_LOW, "body": LONE_HIGH, "rating": 8}, ["body.title", "body.body"]),
    ]:
        created = await client.post("/movies/7/reviews", content=_raw(fields), headers=headers)
        _assert_unstorable(created, named)
    listed = (await client.get("/movies/7/reviews")).json()
    assert listed["total_results"] == 0  # nothing was written, not even the rating
    assert (await client.get("/users/me/ratings", headers=ana.headers)).json()["results"] == []

    review = await _review(client, ana, title="A city of ghosts", body="Mann at his best.")
    for fields, named in [
        ({"title": f"x{LONE_HIGH}"}, ["body.title"]),
        ({"body": f"{LONE_LOW}y"}, ["body.body"]),
    ]:
        edited = await client.patch(
            f"/reviews/{review['id']}", content=_raw(fields), headers=headers
        )
        _assert_unstorable(edited, named)
    assert (await client.get(f"/reviews/{review['id']}")).json() == review


async def test_emoji_and_escaped_text_are_stored_and_read_back_intact(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    _, client = gateway
    ben = await signed_up(client, "ben_surrogate")
    headers = {**ben.headers, **JSON}
    # The emoji arrives as an escaped pair (as json.dumps writes it), the clapper board as UTF-8;
    # the body holds a literal backslash-u, which is text and no escape at all.
    title = "Heat \U0001f3ac\U0001f37f"
    body = "Written as \\ud800 in the source, and caf\u00e9 \U0001f3ac"
    raw = b'{"title": "Heat \\ud83c\\udfac' + "\U0001f37f".encode() + b'", "body": '
    raw += json.dumps(body).encode() + b"}"
    created = await client.post("/movies/7/reviews", content=raw, headers=headers)
    assert created.status_code == 201, created.text
    assert (created.json()["title"], created.json()["body"]) == (title, body)
    read = (await client.get(f"/reviews/{created.json()['id']}")).json()
    assert (read["title"], read["body"]) == (title, body)

    edited = await client.patch(
        f"/reviews/{read['id']}", content=_raw({"body": "\U0001f600 again"}), headers=headers
    )
    assert edited.status_code == 200, edited.text
    assert (await client.get(f"/reviews/{read['id']}")).json()["body"] == "\U0001f600 again"


async def test_a_surrogate_encoded_as_bytes_is_422_too(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """ED A0 80 is a surrogate encoded as if it were a character. It is not UTF-8, but
    json.loads decodes with surrogatepass and handed the service a lone surrogate all the same;
    an emoji encoded as two such halves (CESU-8) is no better."""
    _, client = gateway
    cid = await signed_up(client, "cid_surrogate")
    headers = {**cid.headers, **JSON}
    for raw in [
        b'{"title": "bad \xed\xa0\x80 bytes"}',
        b'{"title": "' + "\ud83c\udfac".encode("utf-8", "surrogatepass") + b'"}',
    ]:
        response = await client.post("/movies/7/reviews", content=raw, headers=headers)
        _assert_unstorable(response, ["body.title"])
    assert (await client.get("/movies/7/reviews")).json()["total_results"] == 0


async def test_query_and_path_text_cannot_carry_a_surrogate(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """Starlette decodes query strings and paths with replacement characters, so the same bytes
    there are a U+FFFD each, harmless text."""
    _, client = gateway
    searched = await client.get("/search/movies?q=heat%ED%A0%80")
    assert searched.status_code == 200, searched.text
    assert searched.json()["results"] == []
    nobody = await client.get("/users/a%ED%A0%80b")
    assert nobody.status_code == 400, nobody.text  # not a username's pattern
    assert nobody.headers["content-type"] == "application/problem+json"


async def test_every_json_write_in_the_openapi_document_refuses_unstorable_text(
    gateway: tuple[Gateway, httpx.AsyncClient],
) -> None:
    """Every operation with a JSON body, in every service: a body whose text fields each carry a
    lone surrogate is a 422 naming exactly those fields, and changes nothing."""
    gw, client = gateway
    admin = await admin_account(gw, client)
    review = await _review(client, admin, title="Fine", body="Fine too")

    async def profile_made() -> bool:
        # The profile comes from auth's registration event: a snapshot taken before it lands
        # would see it change during the walk, which then proves nothing.
        me = await client.get("/users/me", headers=admin.headers)
        return me.json()["created_at"] is not None

    await eventually(profile_made)
    private_reads = [
        "/users/me",
        "/users/me/preferences",
        "/movies/7",
        f"/reviews/{review['id']}",
        "/movies/7/reviews",
        "/notifications/webhooks",
        "/people/1",
    ]
    before = [(await client.get(p, headers=admin.headers)).content for p in private_reads]

    document = (await client.get("/openapi.json")).json()
    samples = Samples(
        document,
        path_values={"movie_id": "7", "review_id": review["id"], "username": admin.username},
    )
    surrogates = iter([LONE_HIGH, LONE_LOW] * 1000)
    writes = [op for op in operations(document) if op.json_body_schema is not None]
    for operation in writes:
        schema = operation.json_body_schema
        assert schema is not None
        body, fields = samples.body(schema, lambda: f"text {next(surrogates)} here")
        if not fields:
            # No text field (a rating's value, a job's options): text the service would ignore
            # still never reaches it.
            assert isinstance(body, dict), operation
            body, fields = {**body, "note": f"text {LONE_HIGH}"}, ["body.note"]
        response = await client.request(
            operation.method,
            samples.path(operation),
            content=_raw(body),
            headers={**admin.headers, **JSON},
        )
        try:
            _assert_unstorable(response, fields[:MAX_REPORTED_FIELDS])
        except AssertionError as failure:
            raise AssertionError(f"{operation}: {failure}") from failure

    # The walk covered what the probe found and the rest: every service with a JSON write.
    covered = {str(op) for op in writes}
    assert {"POST /movies/{movie_id}/reviews", "PATCH /reviews/{review_id}"} <= covered
    assert {"POST /auth/register", "PATCH /users/me", "POST /movies"} <= covered
    assert {"PUT /people/{person_id}", "POST /notifications/webhooks", "POST /ai/train"} <= covered
    after = [(await client.get(p, headers=admin.headers)).content for p in private_reads]
    assert after == before
