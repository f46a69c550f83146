"""The search port (:mod:`.port`), how a query is read (:mod:`.query`) and the index adapters:
tantivy on disk (the embedded shape) and OpenSearch (the distributed one)."""

from __future__ import annotations

from movieverse.platform.search.port import SearchIndex
from movieverse.platform.settings import PlatformSettings


async def open_search_index(settings: PlatformSettings, *, writable: bool) -> SearchIndex:
    """The adapter ``MOVIEVERSE_SEARCH_URL`` names. Only the indexer opens it ``writable``."""
    if settings.search_url:
        try:
            from movieverse.platform.search.opensearch import OpenSearchIndex
        except ImportError as exc:  # the client is an extra: say which
            raise RuntimeError(
                "MOVIEVERSE_SEARCH_URL names OpenSearch, whose client is not installed: "
                "pip install 'movieverse[opensearch]'"
            ) from exc
        return await OpenSearchIndex.open(
            settings.search_url, prefix=settings.search_index_prefix, writable=writable
        )
    from movieverse.platform.search.tantivy_index import TantivySearchIndex

    return await TantivySearchIndex.open(settings.var_dir / "search", writable=writable)
