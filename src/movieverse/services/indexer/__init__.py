"""The indexer service: keeps the search indexes in step with the catalog, people and reviews."""
