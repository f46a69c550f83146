"""The ``movieverse`` command: one module per command group, assembled here."""

from __future__ import annotations

import os

import typer

from movieverse.cli import events, imports, search, servers, stores
from movieverse.cli.ai import ai_app
from movieverse.cli.auth import auth_app
from movieverse.cli.events import dlq_app
from movieverse.cli.imports import import_app
from movieverse.cli.users import users_app

app = typer.Typer(help="MovieVerse: run, migrate and inspect the services.", no_args_is_help=True)
for command in (
    servers.up,
    servers.serve,
    servers.worker,
    stores.migrate,
    stores.check,
    search.reindex,
    imports.demo_data,
    events.publish,
    events.consume,
):
    app.command()(command)
app.add_typer(users_app, name="users")
app.add_typer(import_app, name="import")
app.add_typer(dlq_app, name="dlq")
app.add_typer(ai_app, name="ai")
app.add_typer(auth_app, name="auth")


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


__all__ = ["app", "main"]
