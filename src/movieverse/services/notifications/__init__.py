"""Notifications: in app, by live stream, by email and by webhook."""
