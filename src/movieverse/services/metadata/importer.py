"""Bulk import into metadata: people and credits (from TMDB's credits file or the synthetic demo
catalog), and the keyword vocabulary a movies import produced.

Every batch is one unit of work and is compared with what is stored before anything is written,
so importing the same data again writes nothing and emits no event, and an interrupted import is
finished by running it again. A person already stored keeps what an admin wrote (biography,
birthday, ...): the import only sets the fields its source knows (name, gender, TMDB id).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.contracts.envelope import EventPayload, new_event
from movieverse.contracts.metadata import CreditsChanged
from movieverse.platform.docs import Document, DocumentStore
from movieverse.platform.events.outbox import Outbox
from movieverse.services.metadata import credits as credit_index
from movieverse.services.metadata.models import SERVICE
from movieverse.services.metadata.repository import MetadataRepository
from movieverse.services.metadata.schemas import (
    CreditsWrite,
    MovieCredits,
    PersonRead,
    PersonWrite,
)
from movieverse.services.metadata.service import person_changed, stamped

# How much a credit in a movie adds to a person's popularity, as a share of the movie's.
DIRECTOR_WEIGHT = 0.5
WRITER_WEIGHT = 0.3
OTHER_CREW_WEIGHT = 0.1
PEOPLE_CHUNK = 500


@dataclass(frozen=True)
class PersonSeed:
    """What a credits source knows of a person."""

    person_id: int
    name: str
    gender: int = 0
    tmdb_id: int | None = None


@dataclass(frozen=True)
class MovieCreditsImport:
    movie_id: int
    credits: CreditsWrite
    # Everyone the credits name.
    people: Mapping[int, PersonSeed]


@dataclass
class MetadataImportSummary:
    credits_created: int = 0
    credits_updated: int = 0
    credits_unchanged: int = 0
    people_created: int = 0
    people_updated: int = 0
    keywords_written: int = 0
    keywords_deleted: int = 0
    touched_people: set[int] = field(default_factory=set)

    def add(self, other: MetadataImportSummary) -> None:
        self.credits_created += other.credits_created
        self.credits_updated += other.credits_updated
        self.credits_unchanged += other.credits_unchanged
        self.people_created += other.people_created
        self.people_updated += other.people_updated
        self.keywords_written += other.keywords_written
        self.keywords_deleted += other.keywords_deleted
        self.touched_people |= other.touched_people


class MetadataImporter:
    def __init__(self, *, store: DocumentStore, outbox: Outbox) -> None:
        self.store = store
        self.outbox = outbox

    async def _emit(self, session: AsyncSession, items: Sequence[tuple[EventPayload, int]]) -> None:
        events = [new_event(payload, producer=SERVICE, key=str(key)) for payload, key in items]
        await self.outbox.add(session, *events)

    async def apply_credits(
        self, session: AsyncSession, batch: Sequence[MovieCreditsImport]
    ) -> MetadataImportSummary:
        summary = MetadataImportSummary()
        repo = MetadataRepository(session, self.store)
        await repo.serialize_credit_writes()
        seeds = {pid: seed for item in batch for pid, seed in item.people.items()}
        events: list[tuple[EventPayload, int]] = []
        await self._seed_people(repo, seeds, summary, events)
        stored = await repo.credits_of([item.movie_id for item in batch])
        changes: dict[int, CreditsWrite] = {}
        affected: set[int] = set()
        for item in batch:
            credits = credit_index.normalised(item.credits)
            before = stored.get(item.movie_id)
            if before == credit_index.credits_document(item.movie_id, credits):
                summary.credits_unchanged += 1
                continue
            if before is None:
                summary.credits_created += 1
            else:
                summary.credits_updated += 1
                affected |= credit_index.person_ids(credit_index.parse_credits(before))
            changes[item.movie_id] = credits
            affected |= credit_index.person_ids(credits)
        if changes:
            to_put, to_delete = credit_index.reindex_many(
                await repo.person_credits(affected), changes=changes, affected=affected
            )
            await repo.put_many_credits(
                {m: credit_index.credits_document(m, c) for m, c in changes.items()}
            )
            if to_put:
                await repo.put_person_credits(to_put)
            await repo.delete_person_credits(to_delete)
            for movie_id, credits in changes.items():
                people = credit_index.credited_people(credits)
                events.append((CreditsChanged(movie_id=movie_id, people=people), movie_id))
        # Everyone named, not only those whose credits changed: a run interrupted before the
        # people were refreshed is completed by the next.
        summary.touched_people = affected | set(seeds)
        await self._emit(session, events)
        return summary

    async def _seed_people(
        self,
        repo: MetadataRepository,
        seeds: Mapping[int, PersonSeed],
        summary: MetadataImportSummary,
        events: list[tuple[EventPayload, int]],
    ) -> None:
        stored = await repo.people(seeds)
        to_put: dict[int, Document] = {}
        for person_id, seed in seeds.items():
            current = stored.get(person_id)
            if current is None:
                fields = PersonWrite(name=seed.name, gender=seed.gender, tmdb_id=seed.tmdb_id)
                to_put[person_id] = stamped(person_id, fields.model_dump(mode="json"))
                summary.people_created += 1
                continue
            known: dict[str, object] = {"name": seed.name}
            if seed.gender:
                known["gender"] = seed.gender
            if seed.tmdb_id is not None:
                known["tmdb_id"] = seed.tmdb_id
            if any(current.get(k) != v for k, v in known.items()):
                to_put[person_id] = stamped(person_id, {**current, **known})
                summary.people_updated += 1
        if to_put:
            await repo.put_people(to_put)
            for person_id, document in to_put.items():
                events.append((person_changed(PersonRead.model_validate(document)), person_id))

    async def movies_of(self, session: AsyncSession, *, person_ids: Iterable[int]) -> set[int]:
        """Every movie these people are credited in."""
        index = await MetadataRepository(session, self.store).person_credits(person_ids)
        roles = [MovieCredits.model_validate(document) for document in index.values()]
        cast = {c.movie_id for r in roles for c in r.cast}
        return cast | {c.movie_id for r in roles for c in r.crew}

    async def refresh_people(
        self,
        session: AsyncSession,
        *,
        person_ids: Iterable[int],
        movie_popularity: Mapping[int, float],
    ) -> int:
        """Derive what the credits say of these people: popularity from the movies they are in
        (weighted by billing and job), and ``known_for_department`` where none is set. Returns
        how many people changed."""
        repo = MetadataRepository(session, self.store)
        ids = sorted(set(person_ids))
        changed = 0
        for start in range(0, len(ids), PEOPLE_CHUNK):
            chunk = ids[start : start + PEOPLE_CHUNK]
            people = await repo.people(chunk)
            index = await repo.person_credits(chunk)
            to_put: dict[int, Document] = {}
            for person_id, document in people.items():
                roles = MovieCredits.model_validate(index.get(person_id, {}))
                derived: dict[str, object] = {"popularity": popularity(roles, movie_popularity)}
                if document.get("known_for_department") is None:
                    derived["known_for_department"] = known_for_department(roles)
                if any(document.get(k) != v for k, v in derived.items()):
                    to_put[person_id] = stamped(person_id, {**document, **derived})
            if to_put:
                await repo.put_people(to_put)
                await self._emit(
                    session,
                    [(person_changed(PersonRead.model_validate(d)), p) for p, d in to_put.items()],
                )
                changed += len(to_put)
        return changed

    async def sync_keywords(
        self,
        session: AsyncSession,
        *,
        names: Mapping[int, str],
        deleted: Iterable[int] = (),
    ) -> MetadataImportSummary:
        """Make the keyword documents agree with a movies import's vocabulary.

        No events: the vocabulary came from movies, which already holds it (the only consumer of
        keyword events keeps movies' copy in step). Announcing it back would have movies re-check
        every keyword it has just written -- ten thousand consumer transactions for TMDB 5000.
        """
        summary = MetadataImportSummary()
        repo = MetadataRepository(session, self.store)
        stored = await repo.keywords(names)
        # The shape of KeywordRead, built directly: the names come from the catalog's own rows.
        wanted = {
            keyword_id: {"id": keyword_id, "name": name} for keyword_id, name in names.items()
        }
        to_put = {k: d for k, d in wanted.items() if stored.get(k) != d}
        if to_put:
            await repo.put_keywords(to_put)
        for keyword_id in deleted:
            if await repo.delete_keyword(keyword_id):
                summary.keywords_deleted += 1
        summary.keywords_written = len(to_put)
        return summary


def popularity(roles: MovieCredits, movie_popularity: Mapping[int, float]) -> float:
    """A person's share of the popularity of the movies they are in: a lead takes the most,
    the tenth-billed a tenth; a director half, a writer a third, other crew a tenth."""
    weights: dict[int, float] = {}
    for cast in roles.cast:
        weights[cast.movie_id] = max(weights.get(cast.movie_id, 0.0), 1 / (1 + cast.order))
    for crew in roles.crew:
        if crew.job == "Director":
            weight = DIRECTOR_WEIGHT
        elif crew.department == "Writing":
            weight = WRITER_WEIGHT
        else:
            weight = OTHER_CREW_WEIGHT
        weights[crew.movie_id] = max(weights.get(crew.movie_id, 0.0), weight)
    total = sum(movie_popularity.get(m, 0.0) * w for m, w in weights.items())
    return round(total, 3)


def known_for_department(roles: MovieCredits) -> str | None:
    """The department of most of a person's credits (acting counts as "Acting"); a tie goes
    to acting, then alphabetically."""
    counts = Counter({"Acting": len({c.movie_id for c in roles.cast})})
    counts.update(c.department for c in roles.crew)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0] != "Acting", item[0]))
    return ranked[0][0] if ranked and ranked[0][1] > 0 else None
