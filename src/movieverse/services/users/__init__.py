"""The users service: profiles, preferences and personal movie lists (``/users``)."""
