"""The users API end to end through the gateway, on every configured stack."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support import Account, eventually, login, signed_up

pytestmark = pytest.mark.services("auth", "users", "movies")

LISTS = ["watchlist", "favourites", "seen"]


async def test_me_shows_the_profile_made_at_registration(
    gateway_client: httpx.AsyncClient,
) -> None:
    account = await signed_up(gateway_client, "profile_owner")
    response = await gateway_client.get("/users/me", headers=account.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == account.user_id
    assert body["username"] == "profile_owner"
    assert body["display_name"] is None


async def test_patch_me_changes_only_the_fields_sent(gateway_client: httpx.AsyncClient) -> None:
    account = await signed_up(gateway_client, "patcher")
    first = await gateway_client.patch(
        "/users/me",
        headers=account.headers,
        json={
            "display_name": "  Patty  ",
            "bio": "Noir and giallo.",
            "avatar_url": "https://img.example.org/a.png",
            "country": "PT",
            "language": "pt-BR",
        },
    )
    assert first.status_code == 200, first.text
    assert first.json()["display_name"] == "Patty"
    second = await gateway_client.patch("/users/me", headers=account.headers, json={"bio": None})
    body = second.json()
    assert body["bio"] is None
    assert body["display_name"] == "Patty"
    assert body["country"] == "PT"
    assert body["language"] == "pt-BR"
    assert body["avatar_url"] == "https://img.example.org/a.png"
    again = await gateway_client.get("/users/me", headers=account.headers)
    assert again.json() == body


@pytest.mark.parametrize(
    "payload",
    [
        {"country": "Portugal"},
        {"country": "pt"},
        {"language": "english!"},
        {"avatar_url": "javascript:alert(1)"},
        {"display_name": "x" * 81},
        {"bio": "x" * 2001},
        {"unknown_field": 1},
        {"display_name": 12},
    ],
)
async def test_patch_me_rejects_bad_input_and_changes_nothing(
    gateway_client: httpx.AsyncClient, payload: dict[str, object]
) -> None:
    account = await signed_up(gateway_client, "strict_one")
    await gateway_client.patch("/users/me", headers=account.headers, json={"bio": "kept"})
    response = await gateway_client.patch("/users/me", headers=account.headers, json=payload)
    assert response.status_code == 422
    assert response.json()["errors"]
    me = (await gateway_client.get("/users/me", headers=account.headers)).json()
    assert me["bio"] == "kept"
    assert me["country"] is None
    assert me["language"] is None


async def test_preferences_round_trip(gateway_client: httpx.AsyncClient) -> None:
    account = await signed_up(gateway_client, "prefs_user")
    default = await gateway_client.get("/users/me/preferences", headers=account.headers)
    assert default.json() == {
        "favourite_genres": [],
        "preferred_languages": [],
        "include_adult": False,
        "notifications": {
            "in_app": True,
            "email": False,
            "review_likes": True,
            "review_comments": True,
            "new_followers": True,
            "recommendations_digest": False,
            "watchlist_reviews": True,
            "watchlist_releases": True,
            "broadcasts": True,
        },
    }
    changed = await gateway_client.patch(
        "/users/me/preferences",
        headers=account.headers,
        json={
            "favourite_genres": [80, 18, 80],
            "preferred_languages": ["en", "fr"],
            "include_adult": True,
            "notifications": {"email": True, "review_likes": False},
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["favourite_genres"] == [80, 18]
    assert body["preferred_languages"] == ["en", "fr"]
    assert body["include_adult"] is True
    assert body["notifications"]["email"] is True
    assert body["notifications"]["review_likes"] is False
    assert (await gateway_client.get("/users/me/preferences", headers=account.headers)).json() == (
        body
    )
    bad = await gateway_client.patch(
        "/users/me/preferences", headers=account.headers, json={"favourite_genres": [0]}
    )
    assert bad.status_code == 422


@pytest.mark.parametrize("kind", LISTS)
async def test_lists_add_remove_and_page(gateway_client: httpx.AsyncClient, kind: str) -> None:
    account = await signed_up(gateway_client, f"lister_{kind}")
    for movie_id in (11, 22, 33):
        added = await gateway_client.put(f"/users/me/{kind}/{movie_id}", headers=account.headers)
        assert added.status_code == 201
        assert added.json()["created"] is True
    again = await gateway_client.put(f"/users/me/{kind}/22", headers=account.headers)
    assert again.status_code == 200
    assert again.json()["created"] is False
    page = await gateway_client.get(f"/users/me/{kind}?per_page=2", headers=account.headers)
    body = page.json()
    assert body["total_results"] == 3
    assert body["total_pages"] == 2
    assert [r["movie_id"] for r in body["results"]] == [33, 22]
    last = await gateway_client.get(f"/users/me/{kind}?per_page=2&page=2", headers=account.headers)
    assert [r["movie_id"] for r in last.json()["results"]] == [11]
    past_end = await gateway_client.get(
        f"/users/me/{kind}?per_page=2&page=5", headers=account.headers
    )
    assert past_end.json()["results"] == []
    assert past_end.json()["total_results"] == 3
    member = await gateway_client.get(f"/users/me/{kind}/22", headers=account.headers)
    assert member.status_code == 200
    assert member.json()["movie_id"] == 22
    removed = await gateway_client.delete(f"/users/me/{kind}/22", headers=account.headers)
    assert removed.status_code == 204
    gone = await gateway_client.get(f"/users/me/{kind}/22", headers=account.headers)
    assert gone.status_code == 404
    twice = await gateway_client.delete(f"/users/me/{kind}/22", headers=account.headers)
    assert twice.status_code == 404


async def test_list_adds_are_checked_against_the_catalog(
    gateway_client: httpx.AsyncClient,
) -> None:
    account = await signed_up(gateway_client, "catalog_check")
    missing = await gateway_client.put("/users/me/watchlist/987654", headers=account.headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No movie with id 987654 in the catalog"
    page = await gateway_client.get("/users/me/watchlist", headers=account.headers)
    assert page.json()["total_results"] == 0
    assert (
        await gateway_client.put("/users/me/watchlist/42", headers=account.headers)
    ).status_code == 201


async def test_lists_are_independent(gateway_client: httpx.AsyncClient) -> None:
    account = await signed_up(gateway_client, "three_lists")
    await gateway_client.put("/users/me/watchlist/7", headers=account.headers)
    for kind in ("favourites", "seen"):
        page = await gateway_client.get(f"/users/me/{kind}", headers=account.headers)
        assert page.json()["total_results"] == 0


@pytest.mark.parametrize(
    "path",
    [
        "/users/me/watchlist/0",
        "/users/me/watchlist/-4",
        "/users/me/watchlist/99999999999999999999",
        "/users/me/watchlist/abc",
        "/users/me/not_a_list/5",
        "/users/me/watchlist?per_page=101",
        "/users/me/watchlist?page=0",
    ],
)
async def test_list_routes_validate_input(gateway_client: httpx.AsyncClient, path: str) -> None:
    account = await signed_up(gateway_client, "validator")
    method = "GET" if "?" in path else "PUT"
    response = await gateway_client.request(method, path, headers=account.headers)
    # Malformed parameters make a malformed request: 400, naming the parameter.
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Invalid parameter"
    assert body["errors"][0]["field"].split(".")[0] in {"path", "query"}


async def test_public_profile_shows_public_fields_only(gateway_client: httpx.AsyncClient) -> None:
    account = await signed_up(gateway_client, "public_face")
    await gateway_client.patch(
        "/users/me", headers=account.headers, json={"display_name": "Face", "language": "en"}
    )
    await gateway_client.put("/users/me/watchlist/5", headers=account.headers)
    response = await gateway_client.get("/users/PUBLIC_FACE")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"username", "display_name", "bio", "avatar_url", "country", "member_since"}
    assert body["display_name"] == "Face"
    assert account.user_id not in response.text
    missing = await gateway_client.get("/users/nobody_like_that")
    assert missing.status_code == 404


async def test_deleting_the_account_erases_it_everywhere(
    gateway_client: httpx.AsyncClient,
) -> None:
    account = await signed_up(gateway_client, "leaving_now")
    await gateway_client.put("/users/me/favourites/9", headers=account.headers)
    # Read the profile first, so a cached copy exists when the account goes.
    await eventually(lambda: _profile_stored(gateway_client, "leaving_now"))
    assert (await gateway_client.get("/users/me", headers=account.headers)).status_code == 200
    deleted = await gateway_client.delete("/users/me", headers=account.headers)
    assert deleted.status_code == 204
    # Users: the profile is gone, and the still-unexpired token cannot bring it back.
    assert (await gateway_client.get("/users/leaving_now")).status_code == 404
    me = await gateway_client.get("/users/me", headers=account.headers)
    assert me.status_code == 401
    patched = await gateway_client.patch(
        "/users/me", headers=account.headers, json={"bio": "back?"}
    )
    assert patched.status_code == 401

    # Auth, through users.user.deleted: credentials and sessions are erased.
    async def login_refused() -> bool:
        response = await login(gateway_client, "leaving_now")
        return bool(response.status_code == 401)

    await eventually(login_refused)
    refresh = await gateway_client.post("/auth/refresh", json={"refresh_token": account.refresh})
    assert refresh.status_code == 401
    # The email is free again; the username is reserved (MOVIEVERSE_AUTH_USERNAME_QUARANTINE_DAYS)
    # so nobody is taken for the old owner while anything of theirs may still be about.
    taken = await gateway_client.post(
        "/auth/register",
        json={"email": account.email, "username": "leaving_now", "password": account.password},
    )
    assert taken.status_code == 409
    assert "belonged to a deleted account and is reserved until" in taken.json()["detail"]
    again = await gateway_client.post(
        "/auth/register",
        json={"email": account.email, "username": "arriving_now", "password": account.password},
    )
    assert again.status_code == 201
    assert again.json()["id"] != account.user_id


async def _profile_stored(client: httpx.AsyncClient, username: str) -> bool:
    return (await client.get(f"/users/{username}")).status_code == 200


async def test_profile_reads_see_writes_at_once(gateway_client: httpx.AsyncClient) -> None:
    account = await signed_up(gateway_client, "cache_reader")
    await eventually(lambda: _profile_stored(gateway_client, "cache_reader"))
    for name in ("First", "Second", "Third"):
        before = await gateway_client.get("/users/me", headers=account.headers)
        assert before.status_code == 200
        await gateway_client.patch(
            "/users/me", headers=account.headers, json={"display_name": name}
        )
        after = await gateway_client.get("/users/me", headers=account.headers)
        assert after.json()["display_name"] == name


# --- ownership: one user can never read or change another's private data -------------------


def _leaves(value: object) -> Iterator[object]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


async def _two_users(client: httpx.AsyncClient) -> tuple[Account, Account]:
    alice = await signed_up(client, "alice_owner")
    mallory = await signed_up(client, "mallory_probe")
    await client.patch("/users/me", headers=alice.headers, json={"bio": "alice's bio"})
    await client.patch(
        "/users/me/preferences", headers=alice.headers, json={"favourite_genres": [27]}
    )
    for kind in LISTS:
        await client.put(f"/users/me/{kind}/101", headers=alice.headers)
    return alice, mallory


async def _alice_unchanged(client: httpx.AsyncClient, alice: Account) -> None:
    me = (await client.get("/users/me", headers=alice.headers)).json()
    assert me["bio"] == "alice's bio"
    prefs = (await client.get("/users/me/preferences", headers=alice.headers)).json()
    assert prefs["favourite_genres"] == [27]
    for kind in LISTS:
        page = (await client.get(f"/users/me/{kind}", headers=alice.headers)).json()
        assert [r["movie_id"] for r in page["results"]] == [101]


async def test_ownership_get_me(gateway_client: httpx.AsyncClient) -> None:
    _alice, mallory = await _two_users(gateway_client)
    response = await gateway_client.get("/users/me", headers=mallory.headers)
    assert response.json()["user_id"] == mallory.user_id
    assert "alice's bio" not in response.text


async def test_ownership_patch_me(gateway_client: httpx.AsyncClient) -> None:
    alice, mallory = await _two_users(gateway_client)
    await gateway_client.patch("/users/me", headers=mallory.headers, json={"bio": "pwned"})
    await _alice_unchanged(gateway_client, alice)


async def test_ownership_delete_me(gateway_client: httpx.AsyncClient) -> None:
    alice, mallory = await _two_users(gateway_client)
    assert (await gateway_client.delete("/users/me", headers=mallory.headers)).status_code == 204
    await _alice_unchanged(gateway_client, alice)
    assert (await gateway_client.get("/users/alice_owner")).status_code == 200


async def test_ownership_preferences(gateway_client: httpx.AsyncClient) -> None:
    alice, mallory = await _two_users(gateway_client)
    mine = await gateway_client.get("/users/me/preferences", headers=mallory.headers)
    assert mine.json()["favourite_genres"] == []
    await gateway_client.patch(
        "/users/me/preferences", headers=mallory.headers, json={"favourite_genres": [1]}
    )
    await _alice_unchanged(gateway_client, alice)


@pytest.mark.parametrize("kind", LISTS)
async def test_ownership_lists(gateway_client: httpx.AsyncClient, kind: str) -> None:
    alice, mallory = await _two_users(gateway_client)
    page = await gateway_client.get(f"/users/me/{kind}", headers=mallory.headers)
    assert page.json()["total_results"] == 0
    probe = await gateway_client.get(f"/users/me/{kind}/101", headers=mallory.headers)
    assert probe.status_code == 404
    remove = await gateway_client.delete(f"/users/me/{kind}/101", headers=mallory.headers)
    assert remove.status_code == 404
    await gateway_client.put(f"/users/me/{kind}/202", headers=mallory.headers)
    await _alice_unchanged(gateway_client, alice)


async def test_ownership_public_profile_hides_private_data(
    gateway_client: httpx.AsyncClient,
) -> None:
    alice, mallory = await _two_users(gateway_client)
    response = await gateway_client.get("/users/alice_owner", headers=mallory.headers)
    assert response.status_code == 200
    assert "favourite_genres" not in response.text
    # Alice's lists (movie 101) are not shown. Checked value by value: the text alone may hold
    # "101" by chance, in a timestamp.
    values = list(_leaves(response.json()))
    assert 101 not in values
    assert not any(isinstance(v, str) and v.strip() == "101" for v in values)
    assert not {"watchlist", "favourites", "seen"} & set(response.json())
    assert alice.user_id not in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/me"),
        ("PATCH", "/users/me"),
        ("DELETE", "/users/me"),
        ("GET", "/users/me/preferences"),
        ("PATCH", "/users/me/preferences"),
        ("GET", "/users/me/watchlist"),
        ("GET", "/users/me/watchlist/1"),
        ("PUT", "/users/me/watchlist/1"),
        ("DELETE", "/users/me/watchlist/1"),
    ],
)
async def test_private_routes_need_a_token(
    gateway_client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await gateway_client.request(method, path, json={} if method == "PATCH" else None)
    assert response.status_code == 401
    assert response.json()["status"] == 401
