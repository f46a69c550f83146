"""The search port: how a query is read; the index adapters (tantivy, OpenSearch) are to come."""
