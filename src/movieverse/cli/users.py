"""``movieverse users ...``: user accounts."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from movieverse.cli.common import console, platform_settings
from movieverse.platform.assembly import SharedRuntime, service_runtime
from movieverse.services.auth.app import DEFINITION as AUTH

users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)


@users_app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The administrator's email address")],
    username: Annotated[str, typer.Option(help="3-30 characters of a-z, 0-9 and _")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="MOVIEVERSE_ADMIN_PASSWORD",
            help="Prompted for when not given (or set MOVIEVERSE_ADMIN_PASSWORD)",
        ),
    ],
) -> None:
    """Create an administrator account, or grant the admin role to an existing email."""
    from movieverse.platform.assembly import runtime_of
    from movieverse.platform.errors import DomainError
    from movieverse.services.auth import service as auth_service
    from movieverse.services.auth.bootstrap import AuthRuntime

    settings = platform_settings()

    async def run() -> str:
        runtime = SharedRuntime(settings, consume=False)
        async with service_runtime(AUTH, settings, runtime, start_relay=False) as ctx:
            components = runtime_of(ctx, AuthRuntime).components
            async with ctx.db.unit_of_work() as session:
                account = await auth_service.grant_admin(
                    session, components, email=email, username=username, password=password
                )
                return f"{account.username} <{account.email}> roles={','.join(account.roles)}"

    try:
        summary = asyncio.run(run())
    except DomainError as exc:
        details = "; ".join(e.message for e in exc.errors or [])
        console.print(f"[red]{exc.detail}[/red] {details}")
        raise typer.Exit(1) from exc
    console.print(f"[green]admin ready:[/green] {summary}")
