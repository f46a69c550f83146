"""The ai service: MovieVerse-AI served. It keeps the interactions models learn from (fed by
rating events and imports), trains and versions models, answers scoring requests from the
recommendations service, and scores review sentiment."""
