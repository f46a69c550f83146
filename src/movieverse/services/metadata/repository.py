"""Every document read and write metadata makes, through the documents port.

Documents are addressed by the entity's integer id as text (review analyses: the review's UUID
as text). Each one also carries its id as a number, so lists can break popularity ties by id
numerically rather than as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from movieverse.platform.docs import Document, DocumentStore, SortDirection

GENRES = "genres"
PEOPLE = "people"
CREDITS = "credits"  # one per movie, id = movie id
PERSON_CREDITS = "person_credits"  # one per credited person: the movies they are in
KEYWORDS = "keywords"
ANALYSES = "analyses"  # one per movie
REVIEW_ANALYSES = "review_analyses"  # one per review, id = the review's UUID
# A removal or restore that arrived before the review's score (the two travel on different
# topics, so nothing orders them): the score takes its visibility from here.
REVIEW_VISIBILITY = "review_visibility"
REVIEW_SENTIMENT = "review_sentiment"  # one per movie: totals over its visible review analyses
LOCKS = "locks"
# Review sentiment writers lock one of this many stripes (by movie id): a bounded number of lock
# documents, and writers of different movies seldom wait for each other.
REVIEW_SENTIMENT_LOCK_STRIPES = 64

# People lists: most popular first, ties by id.
_BY_POPULARITY: list[tuple[str, SortDirection]] = [("popularity", "desc"), ("id", "asc")]


def _key(entity_id: int) -> str:
    return str(entity_id)


class MetadataRepository:
    def __init__(self, session: AsyncSession, store: DocumentStore) -> None:
        self.session = session
        self.store = store

    async def _get(self, collection: str, entity_id: int) -> Document | None:
        return await self.store.get(self.session, collection, _key(entity_id))

    async def _get_many(self, collection: str, ids: Iterable[int]) -> dict[int, Document]:
        found = await self.store.get_many(self.session, collection, [_key(i) for i in ids])
        return {int(doc_id): document for doc_id, document in found.items()}

    async def _put(self, collection: str, entity_id: int, document: Mapping[str, Any]) -> None:
        await self.store.put(self.session, collection, _key(entity_id), document)

    async def serialize_credit_writes(self) -> None:
        """Make concurrent credit writers take turns, until this unit of work ends.

        Replacing a movie's credits rewrites the index documents of everyone in them, read then
        written back; two writers sharing a person would otherwise lose one's entry. Writing one
        agreed document first holds its row lock until commit on PostgreSQL and MySQL (SQLite
        writers are serial anyway). MongoDB writes are not transactional: there the lock is only
        a document, and concurrent credit writes are not isolated from each other.
        """
        await self.store.put(self.session, LOCKS, CREDITS, {"purpose": "credit writes"})

    async def serialize_person_writes(self) -> None:
        """Make concurrent person writers take turns (see :meth:`serialize_credit_writes`), so two
        writers cannot both find a TMDB id free and both take it."""
        await self.store.put(self.session, LOCKS, PEOPLE, {"purpose": "person writes"})

    # Genres

    async def genres(self) -> list[Document]:
        found = await self.store.find(self.session, GENRES, sort=[("name", "asc")], limit=1000)
        return [document for _, document in found]

    async def genre(self, genre_id: int) -> Document | None:
        return await self._get(GENRES, genre_id)

    async def genres_by_id(self, ids: Iterable[int]) -> dict[int, Document]:
        return await self._get_many(GENRES, ids)

    async def put_genres(self, documents: Mapping[int, Document]) -> None:
        items = [(_key(i), document) for i, document in documents.items()]
        await self.store.put_many(self.session, GENRES, items)

    # People

    async def person(self, person_id: int) -> Document | None:
        return await self._get(PEOPLE, person_id)

    async def people(self, ids: Iterable[int]) -> dict[int, Document]:
        return await self._get_many(PEOPLE, ids)

    async def put_person(self, person_id: int, document: Document) -> None:
        await self._put(PEOPLE, person_id, document)

    async def person_with(self, field: str, value: str | int) -> int | None:
        """The id of a person whose ``field`` (an external id) equals ``value``, if any."""
        found = await self.store.find(self.session, PEOPLE, where={field: value}, limit=1)
        return int(found[0][0]) if found else None

    async def put_people(self, documents: Mapping[int, Document]) -> None:
        items = [(_key(i), document) for i, document in documents.items()]
        await self.store.put_many(self.session, PEOPLE, items)

    async def delete_person(self, person_id: int) -> bool:
        return await self.store.delete(self.session, PEOPLE, _key(person_id))

    async def people_page(
        self, *, name_contains: str | None, offset: int, limit: int
    ) -> tuple[int, list[Document]]:
        """People by popularity, optionally only those whose name contains the text (literally,
        ignoring case)."""
        contains = ("name", name_contains) if name_contains is not None else None
        total = await self.store.count(self.session, PEOPLE, name_contains=contains)
        found = await self.store.find(
            self.session,
            PEOPLE,
            name_contains=contains,
            sort=_BY_POPULARITY,
            offset=offset,
            limit=limit,
        )
        return total, [document for _, document in found]

    # Credits and their per-person index

    async def credits(self, movie_id: int) -> Document | None:
        return await self._get(CREDITS, movie_id)

    async def put_credits(self, movie_id: int, document: Document) -> None:
        await self._put(CREDITS, movie_id, document)

    async def credits_of(self, movie_ids: Iterable[int]) -> dict[int, Document]:
        return await self._get_many(CREDITS, movie_ids)

    async def put_many_credits(self, documents: Mapping[int, Document]) -> None:
        items = [(_key(i), document) for i, document in documents.items()]
        await self.store.put_many(self.session, CREDITS, items)

    async def delete_credits(self, movie_id: int) -> bool:
        return await self.store.delete(self.session, CREDITS, _key(movie_id))

    async def person_credits(self, person_ids: Iterable[int]) -> dict[int, Document]:
        return await self._get_many(PERSON_CREDITS, person_ids)

    async def put_person_credits(self, documents: Mapping[int, Document]) -> None:
        items = [(_key(i), document) for i, document in documents.items()]
        await self.store.put_many(self.session, PERSON_CREDITS, items)

    async def delete_person_credits(self, person_ids: Sequence[int]) -> None:
        for person_id in person_ids:
            await self.store.delete(self.session, PERSON_CREDITS, _key(person_id))

    # Keywords and analyses

    async def keyword(self, keyword_id: int) -> Document | None:
        return await self._get(KEYWORDS, keyword_id)

    async def put_keyword(self, keyword_id: int, document: Document) -> None:
        await self._put(KEYWORDS, keyword_id, document)

    async def keywords(self, ids: Iterable[int]) -> dict[int, Document]:
        return await self._get_many(KEYWORDS, ids)

    async def put_keywords(self, documents: Mapping[int, Document]) -> None:
        items = [(_key(i), document) for i, document in documents.items()]
        await self.store.put_many(self.session, KEYWORDS, items)

    async def delete_keyword(self, keyword_id: int) -> bool:
        return await self.store.delete(self.session, KEYWORDS, _key(keyword_id))

    async def analysis(self, movie_id: int) -> Document | None:
        return await self._get(ANALYSES, movie_id)

    async def delete_analysis(self, movie_id: int) -> bool:
        return await self.store.delete(self.session, ANALYSES, _key(movie_id))

    async def put_analysis(self, movie_id: int, document: Document) -> None:
        await self._put(ANALYSES, movie_id, document)

    # Review analyses and their per-movie totals

    async def serialize_review_sentiment_writes(self, movie_id: int) -> None:
        """Make writers of one movie's review analyses take turns (see
        :meth:`serialize_credit_writes`): each reads the movie's totals and writes them back."""
        stripe = movie_id % REVIEW_SENTIMENT_LOCK_STRIPES
        await self.store.put(
            self.session, LOCKS, f"{REVIEW_SENTIMENT}:{stripe}", {"purpose": "review sentiment"}
        )

    async def review_analysis(self, review_id: UUID) -> Document | None:
        return await self.store.get(self.session, REVIEW_ANALYSES, str(review_id))

    async def put_review_analysis(self, review_id: UUID, document: Document) -> None:
        await self.store.put(self.session, REVIEW_ANALYSES, str(review_id), document)

    async def review_visibility(self, review_id: UUID) -> Document | None:
        return await self.store.get(self.session, REVIEW_VISIBILITY, str(review_id))

    async def put_review_visibility(self, review_id: UUID, document: Document) -> None:
        await self.store.put(self.session, REVIEW_VISIBILITY, str(review_id), document)

    async def delete_review_visibility(self, review_id: UUID) -> bool:
        return await self.store.delete(self.session, REVIEW_VISIBILITY, str(review_id))

    async def review_sentiment(self, movie_id: int) -> Document | None:
        return await self._get(REVIEW_SENTIMENT, movie_id)

    async def put_review_sentiment(self, movie_id: int, document: Document) -> None:
        await self._put(REVIEW_SENTIMENT, movie_id, document)
