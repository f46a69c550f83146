"""MovieVerse: a movie-discovery backend of independent services."""

__version__ = "0.1.0"
