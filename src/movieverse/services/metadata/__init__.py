"""The metadata service: genres, people, credits, keywords and movie analyses, as documents."""
