"""The recommendations service: the product API over MovieVerse-AI. It knows each user's lists
and preferences (from users' events), asks the ai service to score, pages and caches answers."""
