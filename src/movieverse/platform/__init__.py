"""Shared infrastructure: settings, storage, events, security, HTTP plumbing. No business logic."""
