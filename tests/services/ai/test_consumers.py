"""The ai service's consumer filter, unit by unit: a movie update that touches nothing its
models read (a vote) is passed over; anything else, or an update of unknown reach, is taken."""

from __future__ import annotations

from movieverse.contracts.envelope import new_event
from movieverse.contracts.movies import MovieCreated, MovieDeleted, MovieUpdated
from movieverse.services.ai.consumers import concerns_models
from tests.support import movie_snapshot_fields

SNAPSHOT = movie_snapshot_fields()


def _updated(changed: list[str] | None) -> bool:
    return concerns_models(
        new_event(MovieUpdated(**SNAPSHOT, changed=changed), producer="movies", key="1")
    )


def test_votes_alone_are_passed_over() -> None:
    assert not _updated(["vote_average", "vote_count"])


def test_what_the_models_read_is_taken() -> None:
    assert _updated(["title"])
    assert _updated(["vote_count", "genres"])
    assert _updated(None)  # any field may have changed
    assert concerns_models(new_event(MovieCreated(**SNAPSHOT), producer="movies", key="1"))
    assert concerns_models(new_event(MovieDeleted(movie_id=1), producer="movies", key="1"))
