"""The documents port (:mod:`.port`), its adapters (:mod:`.sql`, :mod:`.mongo`) and their factory.

A service that keeps documents declares the table in its models, so its migrations create it::

    documents = documents_table(Base.metadata, SERVICE)

and builds the store in its lifespan, from its own setting (None in the embedded shape)::

    store = create_document_store(settings.documents_url, service=SERVICE, table=documents,
                                  database=db)
"""

from __future__ import annotations

from sqlalchemy import Table

from movieverse.platform.db import Database
from movieverse.platform.docs.port import (
    MAX_LIMIT,
    Document,
    DocumentStore,
    Scalar,
    SortDirection,
)
from movieverse.platform.docs.sql import SqlDocumentStore, documents_table

_MONGO_SCHEMES = ("mongodb://", "mongodb+srv://")


def create_document_store(
    url: str | None, *, service: str, table: Table, database: Database
) -> DocumentStore:
    """The store for ``service``: MongoDB for a ``mongodb://`` or ``mongodb+srv://`` URL, else SQL.

    ``url`` None means the SQL adapter on ``database`` (the service's own Database), in ``table``
    (from :func:`documents_table` on the service's MetaData). For MongoDB, ``table`` and
    ``database`` are not used; the documents live in the URL's database (``movieverse`` if the
    URL names none), in collections prefixed with ``service``. Any other URL is refused rather
    than silently ignored: documents would otherwise land somewhere the operator did not ask for.
    Call it in the lifespan and ``await store.close()`` on shutdown.
    """
    if url is None:
        return SqlDocumentStore(database, table)
    if url.startswith(_MONGO_SCHEMES):
        from movieverse.platform.docs.mongo import MongoDocumentStore

        return MongoDocumentStore.from_url(url, service=service)
    # Only the scheme is named: the rest of a URL may hold a password.
    scheme = url.split("://", 1)[0] + "://" if "://" in url else "(no scheme)"
    raise ValueError(
        f"unsupported documents URL scheme {scheme}: leave it unset for the service's SQL"
        " database, or give a mongodb:// or mongodb+srv:// URL"
    )


__all__ = [
    "MAX_LIMIT",
    "Document",
    "DocumentStore",
    "Scalar",
    "SortDirection",
    "SqlDocumentStore",
    "create_document_store",
    "documents_table",
]
