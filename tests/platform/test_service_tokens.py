"""Tokens a service presents on its own behalf: minted from the shared secret under HS256, read
from a file minted with auth's private key otherwise, and never an admin's or a user's."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from movieverse.cli import app
from movieverse.platform.security import TokenVerifier
from movieverse.platform.service_tokens import ServiceCredential, service_subject
from movieverse.platform.settings import PlatformSettings
from movieverse.services.auth.settings import AuthSettings
from movieverse.services.auth.tokens import AccessTokenIssuer
from tests.services.auth.test_token_security import write_key_pair


def _token(bearer: str | None) -> str:
    assert bearer is not None
    scheme, _, token = bearer.partition(" ")
    assert scheme == "Bearer"
    return token


def test_under_hs256_a_service_mints_its_own_short_lived_token(tmp_path: Path) -> None:
    settings = PlatformSettings(environment="test", var_dir=tmp_path)
    credential = ServiceCredential(name="recommendations", settings=settings)
    assert credential.available
    bearer = credential.bearer()
    assert credential.bearer() == bearer  # kept until shortly before it expires
    principal = TokenVerifier.from_settings(settings).verify_access(_token(bearer))
    assert principal.is_service
    assert not principal.is_admin
    assert principal.user_id == service_subject("recommendations")
    assert principal.username == "service:recommendations"
    assert service_subject("recommendations") != service_subject("search")


def test_under_eddsa_the_token_comes_from_a_file_minted_with_auths_key(tmp_path: Path) -> None:
    private_file, public_file = write_key_pair(Ed25519PrivateKey.generate(), tmp_path)
    platform = PlatformSettings(
        environment="test", var_dir=tmp_path, jwt_algorithm="EdDSA", jwt_public_key_file=public_file
    )
    # Without the file the service holds only the public key: it cannot mint, and says so.
    unable = ServiceCredential(name="recommendations", settings=platform)
    assert not unable.available
    assert unable.bearer() is None

    issuer = AccessTokenIssuer.from_settings(
        platform, AuthSettings(jwt_private_key_file=private_file)
    )
    token_file = tmp_path / "recommendations.token"
    token_file.write_text(issuer.issue_service(name="recommendations", ttl=timedelta(days=1)))
    with_file = platform.model_copy(update={"service_token_file": token_file})
    credential = ServiceCredential(name="recommendations", settings=with_file)
    assert credential.available
    principal = TokenVerifier.from_settings(with_file).verify_access(_token(credential.bearer()))
    assert principal.is_service
    assert principal.user_id == service_subject("recommendations")


def test_the_cli_mints_a_service_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MOVIEVERSE_ENVIRONMENT", "MOVIEVERSE_JWT_ALGORITHM", "MOVIEVERSE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    env = {"MOVIEVERSE_VAR_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["auth", "service-token", "recommendations"], env=env)
    assert result.exit_code == 0, result.output
    settings = PlatformSettings(environment="test", var_dir=tmp_path)
    principal = TokenVerifier.from_settings(settings).verify_access(result.output.strip())
    assert principal.is_service
    unknown = CliRunner().invoke(app, ["auth", "service-token", "mainframe"], env=env)
    assert unknown.exit_code == 2
    assert "unknown service" in unknown.output
