"""The search service: typo-tolerant, faceted and as-you-type search over the indexes."""
