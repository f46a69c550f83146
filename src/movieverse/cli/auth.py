"""``movieverse auth ...``: tokens and keys."""

from __future__ import annotations

from typing import Annotated

import typer

from movieverse.cli.common import DEFINITIONS, console, platform_settings
from movieverse.platform.settings import ConfigurationError

auth_app = typer.Typer(help="Tokens and keys.", no_args_is_help=True)


@auth_app.command("service-token")
def service_token(
    name: Annotated[str, typer.Argument(help="The service that will present it")],
    days: Annotated[int, typer.Option(min=1, max=365, help="How long it stays valid")] = 30,
) -> None:
    """Print a token for a service's calls on its own behalf (MOVIEVERSE_SERVICE_TOKEN_FILE).
    Needs auth's signing key: under EdDSA or RS256 the other services cannot mint their own."""
    from datetime import timedelta

    from movieverse.services.auth.settings import AuthSettings
    from movieverse.services.auth.tokens import AccessTokenIssuer

    if name not in DEFINITIONS:
        console.print(f"[red]unknown service {name!r}[/red]; known: {', '.join(DEFINITIONS)}")
        raise typer.Exit(2)
    try:
        issuer = AccessTokenIssuer.from_settings(platform_settings(), AuthSettings())
    except ConfigurationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    typer.echo(issuer.issue_service(name=name, ttl=timedelta(days=days)))
