"""A movie's credits as stored, and the per-person index kept beside them.

Credits are one document per movie. So that a person's ``movie_credits`` is one read rather than a
scan of every movie, each credited person also has an index document listing their roles by movie;
whoever replaces a movie's credits rewrites the index documents of everyone who was or is in them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from movieverse.contracts.metadata import CreditedPerson
from movieverse.platform.docs import Document
from movieverse.services.metadata.schemas import (
    CreditsWrite,
    MovieCast,
    MovieCredits,
    MovieCrew,
)


def normalised(credits: CreditsWrite) -> CreditsWrite:
    """Cast in billing order; ``sorted`` is stable, so equal orders keep the order sent."""
    return CreditsWrite(cast=sorted(credits.cast, key=lambda c: c.order), crew=list(credits.crew))


def credits_document(movie_id: int, credits: CreditsWrite) -> Document:
    return {"id": movie_id, **credits.model_dump(mode="json")}


def parse_credits(document: Document) -> CreditsWrite:
    return CreditsWrite.model_validate({"cast": document["cast"], "crew": document["crew"]})


def person_ids(credits: CreditsWrite) -> set[int]:
    return {c.person_id for c in credits.cast} | {c.person_id for c in credits.crew}


def credited_people(credits: CreditsWrite) -> list[CreditedPerson]:
    """Each person once per role, in id order: what ``metadata.credits.changed`` carries."""
    people = [CreditedPerson(person_id=p, role="cast") for p in {c.person_id for c in credits.cast}]
    people += [
        CreditedPerson(person_id=p, role="crew") for p in {c.person_id for c in credits.crew}
    ]
    return sorted(people, key=lambda person: (person.person_id, person.role))


def without_person(credits: CreditsWrite, person_id: int) -> CreditsWrite:
    return CreditsWrite(
        cast=[c for c in credits.cast if c.person_id != person_id],
        crew=[c for c in credits.crew if c.person_id != person_id],
    )


def reindex(
    index: Mapping[int, Document],
    *,
    movie_id: int,
    credits: CreditsWrite,
    affected: Iterable[int],
) -> tuple[dict[int, Document], list[int]]:
    """The index documents to write and the ones to delete after ``movie_id``'s credits became
    ``credits``. ``affected`` is everyone in the old or the new credits; ``index`` holds their
    current index documents (absent for people credited nowhere yet)."""
    return reindex_many(index, changes={movie_id: credits}, affected=affected)


def reindex_many(
    index: Mapping[int, Document],
    *,
    changes: Mapping[int, CreditsWrite],
    affected: Iterable[int],
) -> tuple[dict[int, Document], list[int]]:
    """:func:`reindex` for several movies at once (a bulk import): every movie of ``changes``
    now has exactly those credits; ``affected`` is everyone in their old or new credits."""
    cast_by_person: dict[int, list[MovieCast]] = defaultdict(list)
    crew_by_person: dict[int, list[MovieCrew]] = defaultdict(list)
    for movie_id, credits in changes.items():
        for cast in credits.cast:
            cast_by_person[cast.person_id].append(
                MovieCast(movie_id=movie_id, character=cast.character, order=cast.order)
            )
        for crew in credits.crew:
            crew_by_person[crew.person_id].append(
                MovieCrew(movie_id=movie_id, department=crew.department, job=crew.job)
            )
    to_put: dict[int, Document] = {}
    to_delete: list[int] = []
    for person_id in sorted(set(affected)):
        current = MovieCredits.model_validate(index.get(person_id, {}))
        cast_roles = [c for c in current.cast if c.movie_id not in changes]
        cast_roles += cast_by_person.get(person_id, [])
        crew_roles = [c for c in current.crew if c.movie_id not in changes]
        crew_roles += crew_by_person.get(person_id, [])
        if not cast_roles and not crew_roles:
            to_delete.append(person_id)
            continue
        # Stable sorts by movie: within a movie, roles keep their billing and crew order.
        entry = MovieCredits(
            cast=sorted(cast_roles, key=lambda c: c.movie_id),
            crew=sorted(crew_roles, key=lambda c: c.movie_id),
        )
        to_put[person_id] = {"id": person_id, **entry.model_dump(mode="json")}
    return to_put, [p for p in to_delete if p in index]
