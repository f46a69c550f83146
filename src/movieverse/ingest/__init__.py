"""Filling the catalog from datasets: the import commands and the first-run demo data.

An import spans two services -- movies (movies, genres, keywords) and metadata (people, credits,
the keyword documents) -- so it runs both services' runtimes side by side, and hands each its own
part through that service's import module. No service reads the other's tables: the mapping from
TMDB ids to catalog ids comes from a movies service function, and vocabulary changes are passed
to metadata as values.
"""

from movieverse.ingest.runner import CatalogImport, ImportReport, Progress

__all__ = ["CatalogImport", "ImportReport", "Progress"]
