"""Metadata's business logic. Functions take the caller's session and never commit (rule 2).

Every write stores its documents before it stages its event: with the SQL documents adapter both
commit together; with MongoDB the documents are written at once, and an event must never announce
a change that was not stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.ai import ReviewSentimentScored
from movieverse.contracts.envelope import EventPayload, new_event
from movieverse.contracts.genres import GENRES
from movieverse.contracts.metadata import (
    AnalysisChanged,
    CreditsChanged,
    KeywordChanged,
    PersonChanged,
    PersonDeleted,
)
from movieverse.platform import appends
from movieverse.platform.db import utcnow
from movieverse.platform.docs import Document, DocumentStore
from movieverse.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from movieverse.platform.events.outbox import Outbox
from movieverse.platform.pagination import Page, PageParams
from movieverse.services.metadata import credits as credit_index
from movieverse.services.metadata.models import SERVICE
from movieverse.services.metadata.repository import MetadataRepository
from movieverse.services.metadata.schemas import (
    AnalysisRead,
    AnalysisWrite,
    CastRead,
    CreditsRead,
    CreditsWrite,
    CrewRead,
    GenreList,
    GenreRead,
    KeywordRead,
    KeywordWrite,
    MovieCredits,
    PersonRead,
    PersonSummary,
    PersonWrite,
    ReviewAnalysisRead,
    ReviewSentimentRead,
)

# Sub-resources GET /people/{id}?append_to_response= can add.
APPENDABLE = ("movie_credits",)


def parse_appends(raw: str | None) -> list[str]:
    return appends.parse_appends(raw, valid=APPENDABLE)


async def _emit(session: AsyncSession, outbox: Outbox, payload: EventPayload, *, key: int) -> None:
    await outbox.add(session, new_event(payload, producer=SERVICE, key=str(key)))


def stamped(entity_id: int, fields: Mapping[str, Any]) -> Document:
    return {"id": entity_id, **fields, "updated_at": utcnow().isoformat()}


# Genres


async def genres_to_seed(session: AsyncSession, *, store: DocumentStore) -> dict[int, Document]:
    """The vocabulary's genres that are missing or differ from what is stored."""
    stored = await MetadataRepository(session, store).genres_by_id(GENRES)
    wanted = {genre_id: {"id": genre_id, "name": name} for genre_id, name in GENRES.items()}
    return {genre_id: doc for genre_id, doc in wanted.items() if stored.get(genre_id) != doc}


async def seed_genres(
    session: AsyncSession, *, store: DocumentStore, genres: Mapping[int, Document]
) -> None:
    if genres:
        await MetadataRepository(session, store).put_genres(genres)


async def genre_list(session: AsyncSession, *, store: DocumentStore) -> GenreList:
    documents = await MetadataRepository(session, store).genres()
    return GenreList(genres=[GenreRead.model_validate(d) for d in documents])


async def genre(session: AsyncSession, *, store: DocumentStore, genre_id: int) -> GenreRead:
    document = await MetadataRepository(session, store).genre(genre_id)
    if document is None:
        raise NotFound(f"No genre with id {genre_id}")
    return GenreRead.model_validate(document)


# People


async def person_document(
    session: AsyncSession, *, store: DocumentStore, person_id: int, appends: Sequence[str]
) -> dict[str, Any]:
    people = MetadataRepository(session, store)
    document = await people.person(person_id)
    if document is None:
        raise NotFound(f"No person with id {person_id}")
    body = PersonRead.model_validate(document).model_dump(mode="json")
    if "movie_credits" in appends:
        index = (await people.person_credits([person_id])).get(person_id, {})
        body["movie_credits"] = MovieCredits.model_validate(index).model_dump(mode="json")
    return body


async def people_page(
    session: AsyncSession, *, store: DocumentStore, name: str | None, params: PageParams
) -> Page[PersonSummary]:
    total, documents = await MetadataRepository(session, store).people_page(
        name_contains=name, offset=params.offset, limit=params.per_page
    )
    results = [PersonSummary.model_validate(d) for d in documents]
    return Page[PersonSummary].build(params, total=total, results=results)


async def put_person(
    session: AsyncSession,
    *,
    store: DocumentStore,
    outbox: Outbox,
    person_id: int,
    data: PersonWrite,
) -> tuple[PersonRead, bool]:
    """Create or replace a person; also says whether it was created. A TMDB or IMDb id names
    one person only: another person holding it is a 409."""
    people = MetadataRepository(session, store)
    await people.serialize_person_writes()
    for field, value in (("tmdb_id", data.tmdb_id), ("imdb_id", data.imdb_id)):
        holder = await people.person_with(field, value) if value is not None else None
        if holder is not None and holder != person_id:
            raise Conflict(
                f"Person {holder} already has {field} {value}",
                errors=[FieldError(field=f"body.{field}", message="taken", code="taken")],
            )
    created = await people.person(person_id) is None
    document = stamped(person_id, data.model_dump(mode="json"))
    await people.put_person(person_id, document)
    person = PersonRead.model_validate(document)
    await _emit(session, outbox, person_changed(person), key=person_id)
    return person, created


def person_changed(person: PersonRead) -> PersonChanged:
    return PersonChanged(
        person_id=person.id,
        name=person.name,
        known_for_department=person.known_for_department,
        popularity=person.popularity,
        profile_path=person.profile_path,
        imdb_id=person.imdb_id,
        tmdb_id=person.tmdb_id,
    )


async def delete_person(
    session: AsyncSession, *, store: DocumentStore, outbox: Outbox, person_id: int
) -> None:
    """Remove a person and their credits: a credit without its person could not be shown (the
    name comes from the person), and the movies they were in must stop listing them."""
    repo = MetadataRepository(session, store)
    await repo.serialize_credit_writes()
    if await repo.person(person_id) is None:
        raise NotFound(f"No person with id {person_id}")
    index = MovieCredits.model_validate((await repo.person_credits([person_id])).get(person_id, {}))
    movie_ids = sorted({c.movie_id for c in index.cast} | {c.movie_id for c in index.crew})
    changes: list[CreditsChanged] = []
    for movie_id in movie_ids:
        stored = await repo.credits(movie_id)
        if stored is None:
            continue
        remaining = credit_index.without_person(credit_index.parse_credits(stored), person_id)
        await repo.put_credits(movie_id, credit_index.credits_document(movie_id, remaining))
        changes.append(
            CreditsChanged(movie_id=movie_id, people=credit_index.credited_people(remaining))
        )
    await repo.delete_person_credits([person_id])
    await repo.delete_person(person_id)
    for change in changes:
        await _emit(session, outbox, change, key=change.movie_id)
    await _emit(session, outbox, PersonDeleted(person_id=person_id), key=person_id)


# Credits


def _credits_read(
    movie_id: int, credits: CreditsWrite, people: Mapping[int, Document]
) -> CreditsRead:
    # Writes only accept known people and deletions remove their credits, so a missing person
    # means a write that is not isolated (MongoDB): leave the credit out rather than fail.
    cast = [
        CastRead(
            person_id=c.person_id,
            name=people[c.person_id]["name"],
            character=c.character,
            order=c.order,
            profile_path=people[c.person_id].get("profile_path"),
        )
        for c in credits.cast
        if c.person_id in people
    ]
    crew = [
        CrewRead(
            person_id=c.person_id,
            name=people[c.person_id]["name"],
            department=c.department,
            job=c.job,
            profile_path=people[c.person_id].get("profile_path"),
        )
        for c in credits.crew
        if c.person_id in people
    ]
    return CreditsRead(id=movie_id, cast=cast, crew=crew)


async def movie_credits(
    session: AsyncSession, *, store: DocumentStore, movie_id: int
) -> CreditsRead:
    repo = MetadataRepository(session, store)
    stored = await repo.credits(movie_id)
    if stored is None:
        raise NotFound(f"No credits for movie {movie_id}")
    credits = credit_index.parse_credits(stored)
    people = await repo.people(credit_index.person_ids(credits))
    return _credits_read(movie_id, credits, people)


def _unknown_people(credits: CreditsWrite, missing: set[int]) -> ValidationFailed:
    errors = [
        FieldError(
            field=f"body.{role}.{position}.person_id", message="unknown person", code="unknown"
        )
        for role, ids in (
            ("cast", [c.person_id for c in credits.cast]),
            ("crew", [c.person_id for c in credits.crew]),
        )
        for position, person_id in enumerate(ids)
        if person_id in missing
    ]
    return ValidationFailed(
        f"Unknown person id(s): {', '.join(map(str, sorted(missing)))}; create them first",
        errors=errors,
    )


async def replace_credits(
    session: AsyncSession,
    *,
    store: DocumentStore,
    outbox: Outbox,
    movie_id: int,
    data: CreditsWrite,
) -> tuple[CreditsRead, bool]:
    """Replace a movie's credits and the index of everyone who was or is in them."""
    repo = MetadataRepository(session, store)
    await repo.serialize_credit_writes()
    wanted = credit_index.person_ids(data)
    people = await repo.people(wanted)
    missing = wanted - people.keys()
    if missing:
        raise _unknown_people(data, missing)
    credits = credit_index.normalised(data)
    stored = await repo.credits(movie_id)
    affected = wanted | (
        credit_index.person_ids(credit_index.parse_credits(stored)) if stored else set()
    )
    to_put, to_delete = credit_index.reindex(
        await repo.person_credits(affected), movie_id=movie_id, credits=credits, affected=affected
    )
    await repo.put_credits(movie_id, credit_index.credits_document(movie_id, credits))
    if to_put:
        await repo.put_person_credits(to_put)
    await repo.delete_person_credits(to_delete)
    changed = CreditsChanged(movie_id=movie_id, people=credit_index.credited_people(credits))
    await _emit(session, outbox, changed, key=movie_id)
    return _credits_read(movie_id, credits, people), stored is None


async def forget_movie(
    session: AsyncSession, *, store: DocumentStore, outbox: Outbox, movie_id: int
) -> None:
    """``movies.movie.deleted``: the movie's credits and analysis go, and the people who were in
    it stop listing it in their ``movie_credits``."""
    repo = MetadataRepository(session, store)
    await repo.serialize_credit_writes()
    stored = await repo.credits(movie_id)
    if stored is not None:
        before = credit_index.person_ids(credit_index.parse_credits(stored))
        to_put, to_delete = credit_index.reindex(
            await repo.person_credits(before),
            movie_id=movie_id,
            credits=CreditsWrite(),
            affected=before,
        )
        if to_put:
            await repo.put_person_credits(to_put)
        await repo.delete_person_credits(to_delete)
        await repo.delete_credits(movie_id)
        await _emit(session, outbox, CreditsChanged(movie_id=movie_id, people=[]), key=movie_id)
    if await repo.delete_analysis(movie_id):
        await _emit(session, outbox, AnalysisChanged(movie_id=movie_id), key=movie_id)


# Keywords


async def keyword(session: AsyncSession, *, store: DocumentStore, keyword_id: int) -> KeywordRead:
    document = await MetadataRepository(session, store).keyword(keyword_id)
    if document is None:
        raise NotFound(f"No keyword with id {keyword_id}")
    return KeywordRead.model_validate(document)


async def put_keyword(
    session: AsyncSession,
    *,
    store: DocumentStore,
    outbox: Outbox,
    keyword_id: int,
    data: KeywordWrite,
) -> tuple[KeywordRead, bool]:
    repo = MetadataRepository(session, store)
    created = await repo.keyword(keyword_id) is None
    found = KeywordRead(id=keyword_id, name=data.name)
    await repo.put_keyword(keyword_id, found.model_dump(mode="json"))
    await _emit(
        session, outbox, KeywordChanged(keyword_id=keyword_id, name=data.name), key=keyword_id
    )
    return found, created


# Movie analyses


async def analysis(session: AsyncSession, *, store: DocumentStore, movie_id: int) -> AnalysisRead:
    document = await MetadataRepository(session, store).analysis(movie_id)
    if document is None:
        raise NotFound(f"No analysis for movie {movie_id}")
    return AnalysisRead.model_validate(document)


async def put_analysis(
    session: AsyncSession,
    *,
    store: DocumentStore,
    outbox: Outbox,
    movie_id: int,
    data: AnalysisWrite,
) -> tuple[AnalysisRead, bool]:
    repo = MetadataRepository(session, store)
    created = await repo.analysis(movie_id) is None
    # Kept under its own key, so the object's top-level names never meet the document's own.
    document = stamped(movie_id, {"analysis": data.root})
    await repo.put_analysis(movie_id, document)
    await _emit(session, outbox, AnalysisChanged(movie_id=movie_id), key=movie_id)
    return AnalysisRead.model_validate(document), created


# Review analyses
#
# One document per review holds the ai service's latest score of it and whether the review is
# visible; one summary document per movie holds running totals over its visible analyses, kept
# up to date by the same consumer, in the same unit of work, as the analysis it changes.
#
# Why totals and not a query: the documents port can filter by a field, but it cannot sum, so a
# mean would mean reading every analysis of the movie on each (public, cacheable) read; and its
# filters are not indexed (the SQL adapter reads the whole collection, see platform/docs/sql.py),
# so each read would cost as much as all the reviews of all movies. The totals cost one document
# read per request and one read-modify-write per event. With the SQL adapter they commit or roll
# back together with the analysis and the inbox row, so a redelivered event changes nothing. With
# MongoDB documents are written one at a time (platform/docs/mongo.py): a crash between the
# analysis and the totals leaves the totals one change behind, as with the credit index.

# Compounds are summed in units of 1e-4 (VADER's precision): integer totals stay exact however
# often a review leaves and re-enters them, where float sums would drift.
_COMPOUND_UNITS = 10_000


@dataclass(frozen=True)
class _Share:
    """What one visible analysis adds to its movie's totals."""

    compound_units: int
    label: str
    model: str

    @classmethod
    def of(cls, analysis: Mapping[str, Any]) -> _Share:
        return cls(
            compound_units=round(float(analysis["compound"]) * _COMPOUND_UNITS),
            label=str(analysis["label"]),
            model=str(analysis["model"]),
        )


def _empty_totals(movie_id: int) -> Document:
    return {
        "movie_id": movie_id,
        "count": 0,
        "compound_units": 0,
        "positive_count": 0,
        "neutral_count": 0,
        "negative_count": 0,
        # [{"model", "count"}]: a list, since model names hold dots, which MongoDB reads as
        # paths in field names.
        "models": [],
    }


def _with_share(totals: Document, share: _Share, sign: int) -> Document:
    """``totals`` with ``share`` added (``sign`` 1) or taken away (-1)."""
    updated = dict(totals)
    updated["count"] = totals["count"] + sign
    updated["compound_units"] = totals["compound_units"] + sign * share.compound_units
    label_key = f"{share.label}_count"
    updated[label_key] = totals[label_key] + sign
    models = {entry["model"]: entry["count"] for entry in totals["models"]}
    models[share.model] = models.get(share.model, 0) + sign
    updated["models"] = [
        {"model": name, "count": count} for name, count in sorted(models.items()) if count > 0
    ]
    updated["updated_at"] = utcnow().isoformat()
    return updated


async def _move_share(
    repo: MetadataRepository, movie_id: int, *, before: _Share | None, after: _Share | None
) -> None:
    """Replace one review's share of its movie's totals (None: it did not count, or no longer
    does). The caller holds the movie's review sentiment lock."""
    if before == after:
        return
    totals = await repo.review_sentiment(movie_id) or _empty_totals(movie_id)
    if before is not None:
        totals = _with_share(totals, before, -1)
    if after is not None:
        totals = _with_share(totals, after, 1)
    await repo.put_review_sentiment(movie_id, totals)


def _counted(analysis: Mapping[str, Any] | None) -> _Share | None:
    return _Share.of(analysis) if analysis is not None and analysis["visible"] else None


async def record_review_sentiment(
    session: AsyncSession, *, store: DocumentStore, score: ReviewSentimentScored
) -> bool:
    """``ai.review_sentiment.scored``: keep the score unless the stored one is newer; returns
    whether it was kept. A repeated or late event changes nothing. A new analysis takes the
    visibility a removal that came before it recorded; a replaced one keeps its own."""
    repo = MetadataRepository(session, store)
    await repo.serialize_review_sentiment_writes(score.movie_id)
    stored = await repo.review_analysis(score.review_id)
    if stored is not None and datetime.fromisoformat(stored["scored_at"]) > score.scored_at:
        return False
    earlier = None if stored is not None else await repo.review_visibility(score.review_id)
    if stored is not None:
        visible = bool(stored["visible"])
    else:
        visible = True if earlier is None else bool(earlier["visible"])
    analysis: Document = {
        "review_id": str(score.review_id),
        "movie_id": score.movie_id,
        "compound": score.compound,
        "positive": score.positive,
        "neutral": score.neutral,
        "negative": score.negative,
        "label": score.label,
        "model": score.model,
        "scored_at": score.scored_at.astimezone(UTC).isoformat(),
        "visible": visible,
        "updated_at": utcnow().isoformat(),
    }
    await repo.put_review_analysis(score.review_id, analysis)
    if earlier is not None:  # folded into the analysis now
        await repo.delete_review_visibility(score.review_id)
    if stored is not None and stored["movie_id"] != score.movie_id:
        # A review never changes movie in the reviews service; should a score say otherwise,
        # the old movie's totals still lose what this review gave them.
        await repo.serialize_review_sentiment_writes(stored["movie_id"])
        await _move_share(repo, stored["movie_id"], before=_counted(stored), after=None)
        await _move_share(repo, score.movie_id, before=None, after=_counted(analysis))
    else:
        await _move_share(repo, score.movie_id, before=_counted(stored), after=_counted(analysis))
    return True


async def set_review_visibility(
    session: AsyncSession,
    *,
    store: DocumentStore,
    review_id: UUID,
    movie_id: int | None,
    visible: bool,
) -> None:
    """``reviews.review.removed`` (``visible`` False) and ``reviews.review.restored`` (True): the
    review leaves or re-enters its movie's totals; its score is kept, so no rescoring is needed
    to restore it. Before the review's score arrives, the visibility is kept for it."""
    repo = MetadataRepository(session, store)
    if movie_id is None:
        # Reviews always names the movie; without it, only a stored analysis can. (A visibility
        # kept before the score, without a movie, is then written unlocked.)
        found = await repo.review_analysis(review_id)
        movie_id = None if found is None else int(found["movie_id"])
    if movie_id is not None:
        await repo.serialize_review_sentiment_writes(movie_id)
    # Read (again) under the lock: a score of this review may have committed meanwhile.
    stored = await repo.review_analysis(review_id)
    if stored is None:
        await repo.put_review_visibility(
            review_id, {"review_id": str(review_id), "movie_id": movie_id, "visible": visible}
        )
        return
    if bool(stored["visible"]) == visible:
        return
    updated = {**stored, "visible": visible, "updated_at": utcnow().isoformat()}
    await repo.put_review_analysis(review_id, updated)
    await _move_share(
        repo, int(stored["movie_id"]), before=_counted(stored), after=_counted(updated)
    )


async def review_analysis(
    session: AsyncSession, *, store: DocumentStore, review_id: UUID
) -> ReviewAnalysisRead:
    document = await MetadataRepository(session, store).review_analysis(review_id)
    if document is None:
        raise NotFound(f"No analysis for review {review_id}")
    return ReviewAnalysisRead.model_validate(document)


async def movie_review_sentiment(
    session: AsyncSession, *, store: DocumentStore, movie_id: int
) -> ReviewSentimentRead:
    """The movie's totals as means and counts; count 0 and nulls when none of its reviews is
    counted (metadata does not own movies, so that is an answer, not a 404)."""
    totals = await MetadataRepository(session, store).review_sentiment(movie_id)
    count = 0 if totals is None else int(totals["count"])
    # Below zero only if MongoDB's one-at-a-time writes lost a change: show nothing, not nonsense.
    if totals is None or count <= 0:
        return ReviewSentimentRead(
            movie_id=movie_id, count=0, mean_compound=None, positive_count=0,
            neutral_count=0, negative_count=0, model=None,
        )  # fmt: skip
    models = totals["models"]
    return ReviewSentimentRead(
        movie_id=movie_id,
        count=count,
        mean_compound=round(totals["compound_units"] / count / _COMPOUND_UNITS, 4),
        positive_count=totals["positive_count"],
        neutral_count=totals["neutral_count"],
        negative_count=totals["negative_count"],
        model=models[0]["model"] if len(models) == 1 else None,
    )
