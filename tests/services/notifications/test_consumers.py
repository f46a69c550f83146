"""Notifications' filter on movie events, unit by unit: watchers hear of titles and release
dates, so an update known to touch neither is passed over before any transaction."""

from __future__ import annotations

from movieverse.contracts.envelope import new_event
from movieverse.contracts.movies import MovieCreated, MovieUpdated
from movieverse.services.notifications.consumers import may_concern_watchers
from tests.support import movie_snapshot_fields

SNAPSHOT = movie_snapshot_fields()


def _updated(changed: list[str] | None) -> bool:
    event = new_event(MovieUpdated(**SNAPSHOT, changed=changed), producer="movies", key="1")
    return may_concern_watchers(event)


def test_titles_and_release_dates_concern_watchers() -> None:
    assert _updated(["title"])
    assert _updated(["release_date", "runtime"])
    assert _updated(None)
    assert may_concern_watchers(new_event(MovieCreated(**SNAPSHOT), producer="movies", key="1"))


def test_votes_and_other_fields_do_not() -> None:
    assert not _updated(["vote_average", "vote_count"])
    assert not _updated(["overview", "genres"])
