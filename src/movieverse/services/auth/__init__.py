"""The auth service: accounts, credentials, sessions and tokens (``/auth``)."""
