"""Reviews, likes, comments and moderation through the gateway, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.services.reviews.conftest import ReviewsApp, outbox_types
from tests.support import Account, eventually, signed_up


async def _review(
    client: httpx.AsyncClient, account: Account, movie_id: int, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/movies/{movie_id}/reviews", json=fields, headers=account.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _usernames(page: dict[str, Any]) -> list[str]:
    return [r["username"] for r in page["results"]]


async def test_write_read_edit_and_list_reviews(
    reviews: ReviewsApp, movies: dict[str, int]
) -> None:
    gateway, client = reviews
    heat = movies["Heat"]
    ana, ben, cid = [await signed_up(client, n) for n in ("ana_review", "ben_review", "cid_review")]
    first = await _review(
        client, ana, heat, title="A city of ghosts", body="Mann at his best.", spoiler=False,
        language="en", rating=9.5,
    )  # fmt: skip
    assert first["username"] == "ana_review"
    assert first["rating"] == 9.5  # the review set the rating too
    assert first["likes_count"] == 0
    await _review(client, ben, heat, title="Too long", rating=5)
    await _review(client, cid, heat, body="   ")  # blank text is no text
    again = await client.post(f"/movies/{heat}/reviews", json={"title": "x"}, headers=ana.headers)
    assert again.status_code == 409
    assert first["id"] in again.json()["detail"]

    fetched = (await client.get(f"/reviews/{first['id']}")).json()
    assert fetched == first
    page = (await client.get(f"/movies/{heat}/reviews")).json()
    assert _usernames(page) == ["cid_review", "ben_review", "ana_review"]  # newest first
    by_rating = (await client.get(f"/movies/{heat}/reviews?sort_by=rating")).json()
    assert _usernames(by_rating) == ["ana_review", "ben_review", "cid_review"]  # unrated last
    with_text = (await client.get(f"/movies/{heat}/reviews?has_text=true")).json()
    assert _usernames(with_text) == ["ana_review"]
    assert with_text["total_results"] == 1
    assert _usernames((await client.get("/users/ben_review/reviews")).json()) == ["ben_review"]
    assert (await client.get("/movies/424242/reviews")).status_code == 404

    edited = await client.patch(
        f"/reviews/{first['id']}", json={"body": None, "spoiler": True}, headers=ana.headers
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["body"] is None
    assert edited.json()["title"] == "A city of ghosts"  # not sent, not changed
    assert edited.json()["spoiler"] is True
    assert (await client.get(f"/movies/{heat}/reviews?has_text=true")).json()["results"] == []
    other = await client.patch(f"/reviews/{first['id']}", json={"title": "x"}, headers=ben.headers)
    assert other.status_code == 403
    types = await outbox_types(gateway)
    assert types.count("reviews.review.written") == 4


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"body": "x" * 10_001}, "body.body"),
        ({"title": ""}, "body.title"),
        ({"title": "nul \x00 inside"}, "body.title"),
        ({"language": "English"}, "body.language"),
        ({"rating": 11}, "body.rating"),
        ({"surprise": True}, "body.surprise"),
    ],
)
async def test_bad_reviews_are_422_and_change_nothing(
    reviews: ReviewsApp, movies: dict[str, int], fields: dict[str, Any], field: str
) -> None:
    _, client = reviews
    writer = await signed_up(client, "bad_reviewer")
    response = await client.post(
        f"/movies/{movies['Heat']}/reviews", json=fields, headers=writer.headers
    )
    assert response.status_code == 422, response.text
    assert any(e["field"] == field for e in response.json()["errors"]), response.json()
    assert (await client.get(f"/movies/{movies['Heat']}/reviews")).json()["total_results"] == 0
    long_ok = await client.post(
        f"/movies/{movies['Heat']}/reviews", json={"body": "x" * 10_000}, headers=writer.headers
    )
    assert long_ok.status_code == 201


async def test_likes_one_per_user_never_your_own(
    reviews: ReviewsApp, movies: dict[str, int]
) -> None:
    gateway, client = reviews
    author, fan, other = [
        await signed_up(client, n) for n in ("like_author", "like_fan", "like_two")
    ]
    review = await _review(client, author, movies["Heat"], title="Liked")
    url = f"/reviews/{review['id']}/like"
    assert (await client.put(url, headers=fan.headers)).status_code == 201
    assert (await client.put(url, headers=fan.headers)).status_code == 204  # once only
    assert (await client.put(url, headers=other.headers)).status_code == 201
    own = await client.put(url, headers=author.headers)
    assert own.status_code == 403
    assert "your own" in own.json()["detail"]
    assert (await client.get(f"/reviews/{review['id']}")).json()["likes_count"] == 2
    top = await _review(client, other, movies["Heat"], title="Unliked")
    ranked = (await client.get(f"/movies/{movies['Heat']}/reviews?sort_by=top")).json()
    assert [r["id"] for r in ranked["results"]] == [review["id"], top["id"]]
    assert (await client.delete(url, headers=fan.headers)).status_code == 204
    assert (await client.delete(url, headers=fan.headers)).status_code == 204
    assert (await client.get(f"/reviews/{review['id']}")).json()["likes_count"] == 1
    assert (await outbox_types(gateway)).count("reviews.review.liked") == 2


async def test_comments_and_replies_one_level_deep(
    reviews: ReviewsApp, movies: dict[str, int], admin: Account
) -> None:
    gateway, client = reviews
    author, fan = await signed_up(client, "thread_author"), await signed_up(client, "thread_fan")
    review = await _review(client, author, movies["Heat"], title="Discuss")
    comments = f"/reviews/{review['id']}/comments"
    top = (await client.post(comments, json={"body": "Agreed"}, headers=fan.headers)).json()
    reply = await client.post(
        comments, json={"body": "Thanks", "parent_id": top["id"]}, headers=author.headers
    )
    assert reply.status_code == 201, reply.text
    deeper = await client.post(
        comments, json={"body": "No", "parent_id": reply.json()["id"]}, headers=fan.headers
    )
    assert deeper.status_code == 400
    listed = (await client.get(comments)).json()
    assert listed["total_results"] == 1
    assert [c["body"] for c in listed["results"]] == ["Agreed"]
    assert [r["body"] for r in listed["results"][0]["replies"]] == ["Thanks"]
    assert (await client.get(f"/reviews/{review['id']}")).json()["comments_count"] == 2
    events = await outbox_types(gateway)
    assert events.count("reviews.comment.posted") == 2

    not_theirs = await client.delete(f"{comments}/{top['id']}", headers=author.headers)
    assert not_theirs.status_code == 403
    assert (await client.delete(f"{comments}/{top['id']}", headers=fan.headers)).status_code == 204
    assert (await client.get(comments)).json()["total_results"] == 0
    assert (await client.get(f"/reviews/{review['id']}")).json()["comments_count"] == 0
    empty = await client.post(comments, json={"body": ""}, headers=fan.headers)
    assert empty.status_code == 422


async def test_reports_and_moderation(
    reviews: ReviewsApp, movies: dict[str, int], admin: Account
) -> None:
    gateway, client = reviews
    author, reader = await signed_up(client, "rude_author"), await signed_up(client, "reader_one")
    review = await _review(client, author, movies["Heat"], body="Something rude")
    report_url = f"/reviews/{review['id']}/report"
    made = await client.post(report_url, json={"reason": "abuse"}, headers=reader.headers)
    assert made.status_code == 201, made.text
    again = await client.post(report_url, json={"reason": "spam"}, headers=reader.headers)
    assert again.status_code == 200
    assert again.json()["id"] == made.json()["id"]
    bad = await client.post(report_url, json={"reason": "boring"}, headers=reader.headers)
    assert bad.status_code == 422
    assert (await client.get("/reviews/reports", headers=reader.headers)).status_code == 403
    queue = (await client.get("/reviews/reports", headers=admin.headers)).json()
    assert [r["target_id"] for r in queue["results"]] == [review["id"]]

    assert (
        await client.post(f"/reviews/{review['id']}/hide", headers=reader.headers)
    ).status_code == 403
    hidden = await client.post(f"/reviews/{review['id']}/hide", headers=admin.headers)
    assert hidden.status_code == 200
    assert hidden.json()["hidden"] is True
    # Gone from every public list and page, but its author still sees it.
    assert (await client.get(f"/movies/{movies['Heat']}/reviews")).json()["results"] == []
    assert (await client.get("/users/rude_author/reviews")).json()["results"] == []
    assert (await client.get(f"/reviews/{review['id']}")).status_code == 404
    mine = await client.get(f"/reviews/{review['id']}", headers=author.headers)
    assert mine.json()["hidden"] is True
    assert (await client.get("/reviews/reports", headers=admin.headers)).json()["results"] == []
    resolved = (await client.get("/reviews/reports?status=resolved", headers=admin.headers)).json()
    assert resolved["results"][0]["status"] == "resolved"

    shown = await client.post(f"/reviews/{review['id']}/unhide", headers=admin.headers)
    assert shown.json()["hidden"] is False
    assert (await client.get(f"/movies/{movies['Heat']}/reviews")).json()["total_results"] == 1
    types = await outbox_types(gateway)
    assert "reviews.review.removed" in types
    assert "reviews.review.restored" in types

    # A comment is reported and hidden the same way.
    comment = (
        await client.post(
            f"/reviews/{review['id']}/comments", json={"body": "spam spam"}, headers=reader.headers
        )
    ).json()
    comment_report = await client.post(
        f"/reviews/{review['id']}/comments/{comment['id']}/report",
        json={"reason": "spam", "note": "link farm"},
        headers=author.headers,
    )
    assert comment_report.status_code == 201
    assert comment_report.json()["target_type"] == "comment"
    await client.post(
        f"/reviews/{review['id']}/comments/{comment['id']}/hide", headers=admin.headers
    )
    assert (await client.get(f"/reviews/{review['id']}/comments")).json()["results"] == []
    # An admin may delete any review.
    deleted = await client.delete(f"/reviews/{review['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/reviews/{review['id']}", headers=author.headers)).status_code == 404


async def test_a_deleted_user_leaves_no_trace(reviews: ReviewsApp, movies: dict[str, int]) -> None:
    """users.user.deleted erases the user's ratings, reviews, likes and comments, and the
    movies' scores follow."""
    _, client = reviews
    heat = movies["Heat"]
    leaving, staying = await signed_up(client, "leaving_user"), await signed_up(client, "stay_user")
    kept = await _review(client, staying, heat, title="Staying")
    await _review(client, leaving, heat, title="Leaving", rating=2)
    await client.put(f"/reviews/{kept['id']}/like", headers=leaving.headers)
    await client.post(
        f"/reviews/{kept['id']}/comments", json={"body": "bye"}, headers=leaving.headers
    )

    async def heat_votes(count: int) -> bool:
        return bool((await client.get(f"/movies/{heat}")).json()["vote_count"] == count)

    await eventually(lambda: heat_votes(101))
    assert (await client.delete("/users/me", headers=leaving.headers)).status_code == 204

    async def erased() -> bool:
        page = (await client.get(f"/movies/{heat}/reviews")).json()
        review = (await client.get(f"/reviews/{kept['id']}")).json()
        return (
            _usernames(page) == ["stay_user"]
            and review["likes_count"] == 0
            and review["comments_count"] == 0
        )

    await eventually(erased)
    await eventually(lambda: heat_votes(100))
    assert (await client.get("/users/leaving_user/reviews")).json()["total_results"] == 0
