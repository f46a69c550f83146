"""Webhook deliveries resolve the host once, check every address, and connect to exactly the
address they checked, with the registered name kept for Host, SNI and the certificate check
(finding 9: DNS rebinding). A resolver stands in for DNS; nothing leaves the loopback range."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from movieverse.gateway.app import Gateway
from movieverse.services.notifications import service
from movieverse.services.notifications.models import Kind
from movieverse.services.notifications.settings import NotificationsSettings
from movieverse.services.notifications.targets import (
    TargetRefused,
    forbidden_address,
    pin,
)
from movieverse.services.notifications.worker import DeliveryWorker, webhook_transport
from tests.services.notifications.conftest import Receiver, notifications_gateway
from tests.support import Account, eventually, signed_up

# Public addresses a fake DNS answers: no test ever connects to one (the transport that would is
# a recording stand-in wherever they appear).
PUBLIC = "93.184.216.34"
PUBLIC_V6 = "2606:4700:4700::1111"


class ScriptedResolver:
    """Answers each lookup with the next of ``answers`` (the last one again once they run out),
    and counts the lookups: a DNS server whose answer changes between two lookups."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append((host, port))
        index = min(len(self.lookups), len(self.answers)) - 1
        return list(self.answers[index])


# The address policy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "192.0.0.8", "198.18.0.1", "192.0.2.1", "224.0.0.1",
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "233.1.1.1", "240.0.0.1", "255.255.255.255", "::", "::1", "fe80::1", "fc00::1",
        "fd12:3456::1", "fec0::1", "ff02::1", "ff0e::1", "2001:db8::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
        "64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:7f00:1::", "2002:c0a8:101::1",
    ],
)  # fmt: skip
def test_addresses_outside_the_public_internet_are_refused(address: str) -> None:
    assert forbidden_address(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", [PUBLIC, "1.1.1.1", PUBLIC_V6, "::ffff:93.184.216.34", "64:ff9b::5db8:d822"]
)
def test_public_addresses_are_targets(address: str) -> None:
    assert forbidden_address(ipaddress.ip_address(address)) is None


async def test_one_private_answer_among_public_ones_refuses_the_name() -> None:
    resolve = ScriptedResolver([PUBLIC, "10.0.0.7"])
    with pytest.raises(TargetRefused, match=r"hooks\.example\.test resolves to 10\.0\.0\.7"):
        await pin("https://hooks.example.test/x", resolve=resolve, private_allowed=False)
    assert resolve.lookups == [("hooks.example.test", 443)]


async def test_a_name_is_resolved_once_and_pinned() -> None:
    resolve = ScriptedResolver([PUBLIC, PUBLIC_V6], ["127.0.0.1"])
    target = await pin(
        "https://Hooks.Example.test:8443/in?x=1", resolve=resolve, private_allowed=False
    )
    assert resolve.lookups == [("hooks.example.test", 8443)]
    assert [str(a) for a in target.addresses] == [PUBLIC, PUBLIC_V6]
    assert str(target.url_for(target.addresses[0])) == f"https://{PUBLIC}:8443/in?x=1"
    assert str(target.url_for(target.addresses[1])) == f"https://[{PUBLIC_V6}]:8443/in?x=1"
    assert target.host_header == "hooks.example.test:8443"
    assert target.server_hostname == "hooks.example.test"
    plain = await pin("http://hooks.example.test/in", resolve=resolve, private_allowed=True)
    assert plain.host_header == "hooks.example.test"
    assert plain.server_hostname is None  # no TLS: Host is all a server reads of the name


async def test_literal_addresses_and_local_names_need_no_lookup() -> None:
    resolve = ScriptedResolver(["127.0.0.1"])
    for url in ("http://127.0.0.1/x", "http://[::ffff:7f00:1]/x", "http://localhost:8000/x"):
        with pytest.raises(TargetRefused):
            await pin(url, resolve=resolve, private_allowed=False)
    literal = await pin(f"https://{PUBLIC}/x", resolve=resolve, private_allowed=False)
    assert literal.server_hostname is None  # the certificate must name the address
    assert resolve.lookups == []


# Deliveries, end to end -----------------------------------------------------------------------


async def _webhook_and_notification(
    gateway: Gateway, client: httpx.AsyncClient, url: str, name: str
) -> tuple[Account, str]:
    """A user with a webhook at ``url``, and one notification for them (queued for it)."""
    owner = await signed_up(client, name)
    made = await client.post("/notifications/webhooks", json={"url": url}, headers=owner.headers)
    assert made.status_code == 201, made.text
    ctx = gateway.services["notifications"].state.ctx
    async with ctx.db.unit_of_work() as session:
        told = await service.notify(
            session, ctx.runtime.outlets, user_id=UUID(owner.user_id), kind=Kind.BROADCAST,
            title="Hello", body="Hello", data={}, dedupe_key=f"test:{name}",
        )  # fmt: skip
    assert told is not None
    hook_id: str = made.json()["id"]
    return owner, hook_id


def _worker(gateway: Gateway, **seams: Any) -> DeliveryWorker:
    """A delivery worker of the running service (whose own worker is off in these tests)."""
    ctx = gateway.services["notifications"].state.ctx
    own = ctx.settings
    assert isinstance(own, NotificationsSettings)
    return DeliveryWorker(
        db=ctx.db, settings=own, outlets=ctx.runtime.outlets,
        private_allowed=ctx.runtime.private_webhooks, **seams,
    )  # fmt: skip


async def _history(client: httpx.AsyncClient, owner: Account, hook_id: str) -> list[Any]:
    url = f"/notifications/webhooks/{hook_id}/deliveries"
    response = await client.get(url, headers=owner.headers)
    assert response.status_code == 200, response.text
    body: list[Any] = response.json()
    return body


async def test_a_rebinding_name_is_delivered_to_the_address_that_was_checked(
    tmp_path: Path,
) -> None:
    """Production: the name answers a public address, then 127.0.0.1. One lookup is made, and
    the request goes to the public address it checked, named as registered."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    async with notifications_gateway(tmp_path, run_worker=False, webhook_private_targets=False) as (
        gateway,
        client,
    ):
        ctx = gateway.services["notifications"].state.ctx
        ctx.runtime.resolver.current = ScriptedResolver([PUBLIC])  # at registration
        owner, hook_id = await _webhook_and_notification(
            gateway, client, "https://hooks.example.test:8443/in", "rebind_owner"
        )
        rebinding = ScriptedResolver([PUBLIC], ["127.0.0.1"])
        worker = _worker(gateway, resolve=rebinding, transport=httpx.MockTransport(answer))
        try:
            assert await worker.tick() == 1
        finally:
            await worker.close()
        assert rebinding.lookups == [("hooks.example.test", 8443)]
        [request] = sent
        assert request.url.host == PUBLIC
        assert request.url.port == 8443
        assert request.headers["Host"] == "hooks.example.test:8443"
        assert request.extensions["sni_hostname"] == "hooks.example.test"
        assert [d["status"] for d in await _history(client, owner, hook_id)] == ["sent"]


async def test_a_name_resolving_to_a_private_address_is_refused_and_never_sent(
    tmp_path: Path,
) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    async with notifications_gateway(tmp_path, run_worker=False, webhook_private_targets=False) as (
        gateway,
        client,
    ):
        ctx = gateway.services["notifications"].state.ctx
        ctx.runtime.resolver.current = ScriptedResolver([PUBLIC])
        owner, hook_id = await _webhook_and_notification(
            gateway, client, "http://hooks.example.test/in", "private_owner"
        )
        # The name moved into the private network after it was registered.
        worker = _worker(
            gateway,
            resolve=ScriptedResolver([PUBLIC, "10.0.0.7"]),
            transport=httpx.MockTransport(answer),
        )
        try:
            assert await worker.tick() == 1
            assert await worker.tick() == 0  # failed at once: no retry is due
        finally:
            await worker.close()
        assert sent == []
        [delivery] = await _history(client, owner, hook_id)
        assert delivery["status"] == "failed"
        assert delivery["attempts"] == 1
        assert delivery["last_error"] == (
            "not sent: hooks.example.test resolves to 10.0.0.7, a private address: private "
            "targets are not allowed here"
        )


async def test_registration_checks_what_the_name_resolves_to_in_production(
    tmp_path: Path,
) -> None:
    async with notifications_gateway(tmp_path, run_worker=False, webhook_private_targets=False) as (
        gateway,
        client,
    ):
        ctx = gateway.services["notifications"].state.ctx
        owner = await signed_up(client, "register_owner")

        async def register(url: str) -> httpx.Response:
            return await client.post(
                "/notifications/webhooks", json={"url": url}, headers=owner.headers
            )

        ctx.runtime.resolver.current = ScriptedResolver(["169.254.169.254"])
        refused = await register("http://metadata.example.test/latest")
        assert refused.status_code == 400, refused.text
        assert "resolves to 169.254.169.254, a link-local address" in refused.json()["detail"]
        for literal in ("http://[::ffff:127.0.0.1]/x", "http://0.0.0.0:8000/x"):
            assert (await register(literal)).status_code == 400
        ctx.runtime.resolver.current = ScriptedResolver([PUBLIC])
        assert (await register("https://hooks.example.test/in")).status_code == 201


async def test_a_delivery_reaches_the_checked_loopback_address_with_its_host_name(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Outside production loopback is allowed: the real receiver on 127.0.0.1 gets the delivery
    the first lookup pointed at, under the registered name, though a second lookup would have
    said 127.0.0.2 (where nothing listens)."""
    port = receiver.server.server_address[1]
    async with notifications_gateway(tmp_path, run_worker=False) as (gateway, client):
        owner, hook_id = await _webhook_and_notification(
            gateway, client, f"http://hooks.example.test:{port}/in", "loopback_owner"
        )
        resolve = ScriptedResolver(["127.0.0.1"], ["127.0.0.2"])
        worker = _worker(gateway, resolve=resolve)
        try:
            assert await worker.tick() == 1
        finally:
            await worker.close()
        assert resolve.lookups == [("hooks.example.test", port)]
        [delivery] = receiver.received
        assert delivery.headers["Host"] == f"hooks.example.test:{port}"
        assert [d["status"] for d in await _history(client, owner, hook_id)] == ["sent"]


# TLS: the name, not the address, is what is checked ----------------------------------------------


def _tls_pair(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for ``name`` only (no address in it), and a client
    context that trusts the authority that signed it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "MovieVerse test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


async def test_https_sends_and_verifies_the_registered_name_not_the_address(
    tmp_path: Path, receiver: Receiver
) -> None:
    server_tls, client_tls = _tls_pair(tmp_path, "hooks.example.test")
    names_asked: list[str | None] = []
    server_tls.sni_callback = lambda _socket, name, _context: names_asked.append(name)
    receiver.server.socket = server_tls.wrap_socket(receiver.server.socket, server_side=True)
    port = receiver.server.server_address[1]
    async with notifications_gateway(tmp_path, run_worker=False) as (gateway, client):
        owner, hook_id = await _webhook_and_notification(
            gateway, client, f"https://hooks.example.test:{port}/in", "tls_owner"
        )
        # Another name on the same address, which the certificate does not cover.
        stranger, stranger_hook = await _webhook_and_notification(
            gateway, client, f"https://other.example.test:{port}/in", "tls_stranger"
        )
        worker = _worker(
            gateway,
            resolve=ScriptedResolver(["127.0.0.1"]),
            transport=webhook_transport(verify=client_tls),
        )
        try:
            assert await worker.tick() == 2
        finally:
            await worker.close()
        [delivery] = receiver.received
        assert delivery.headers["Host"] == f"hooks.example.test:{port}"
        assert "hooks.example.test" in names_asked
        assert [d["status"] for d in await _history(client, owner, hook_id)] == ["sent"]
        [refused] = await _history(client, stranger, stranger_hook)
        assert refused["status"] == "pending"  # retried later: certificates get fixed
        assert "CERTIFICATE_VERIFY_FAILED" in refused["last_error"]
        assert "other.example.test" in refused["last_error"]


# Host names no resolver can take: a client mistake (4xx), never a 500 --------------------------

# An A-label that is no valid punycode (idna.IDNAError when the host is decoded), and a label
# over 63 characters (UnicodeError from the IDNA codec getaddrinfo encodes the name with).
INVALID_HOSTS = ["https://xn--zz.com/in", f"http://{'a' * 64}.com/in", "http://a..com/in"]


@pytest.mark.parametrize("private_allowed", [True, False], ids=["development", "production"])
@pytest.mark.parametrize("url", INVALID_HOSTS)
async def test_invalid_host_names_are_refused_with_a_problem(
    tmp_path: Path, url: str, private_allowed: bool
) -> None:
    # The operating system's resolver, as in production: nothing reaches a DNS server, since
    # the name fails before any lookup could be made.
    async with notifications_gateway(
        tmp_path, run_worker=False, webhook_private_targets=private_allowed
    ) as (_, client):
        owner = await signed_up(client, "idna_owner")
        made = await client.post(
            "/notifications/webhooks", json={"url": url}, headers=owner.headers
        )
        assert made.status_code == 400, made.text
        assert made.headers["content-type"].startswith("application/problem+json")
        assert "not a valid domain name" in made.json()["detail"]
        assert (await client.get("/notifications/webhooks", headers=owner.headers)).json() == []


async def test_a_name_the_resolver_cannot_encode_is_refused() -> None:
    async def unencodable(host: str, port: int) -> list[str]:
        raise UnicodeError("label empty or too long")

    with pytest.raises(TargetRefused, match="not a valid domain name"):
        await pin("https://hooks.example.test/in", resolve=unencodable, private_allowed=False)


# The service's own worker resolves through the replaceable resolver -----------------------------


def _service_worker(gateway: Gateway) -> DeliveryWorker:
    """The worker the service made (not running on its own in these tests: run_worker=False)."""
    worker: DeliveryWorker = gateway.services["notifications"].state.ctx.runtime.worker
    return worker


async def test_the_services_worker_resolves_through_the_replaced_resolver(
    tmp_path: Path, receiver: Receiver
) -> None:
    port = receiver.server.server_address[1]
    async with notifications_gateway(tmp_path, run_worker=False) as (gateway, client):
        resolve = ScriptedResolver(["127.0.0.1"])
        gateway.services["notifications"].state.ctx.runtime.resolver.current = resolve
        owner, hook_id = await _webhook_and_notification(
            gateway, client, f"http://hooks.example.test:{port}/in", "replaced_owner"
        )
        assert await _service_worker(gateway).tick() == 1
        assert resolve.lookups == [("hooks.example.test", port)]
        [delivery] = receiver.received
        assert delivery.headers["Host"] == f"hooks.example.test:{port}"
        assert [d["status"] for d in await _history(client, owner, hook_id)] == ["sent"]


# A name that does not resolve now is retried; only the policy's refusals are final ----------------


class FailingFirst:
    """Fails the first lookup with ``error`` (a DNS server down, or a name not there yet), then
    answers ``answer``."""

    def __init__(self, error: OSError, answer: Sequence[str]) -> None:
        self.error = error
        self.answer = list(answer)
        self.lookups = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups += 1
        if self.lookups == 1:
            raise self.error
        return self.answer


RESOLUTION_ERRORS = {
    "temporary": socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
    "server-failure": socket.gaierror(socket.EAI_FAIL, "Non-recoverable failure in resolution"),
    "no-such-name": socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
    "timed-out": TimeoutError("timed out"),
}


@pytest.mark.parametrize("error", RESOLUTION_ERRORS.values(), ids=RESOLUTION_ERRORS.keys())
async def test_a_delivery_whose_name_does_not_resolve_is_retried(
    tmp_path: Path, receiver: Receiver, error: OSError
) -> None:
    port = receiver.server.server_address[1]
    async with notifications_gateway(tmp_path, run_worker=False) as (gateway, client):
        owner, hook_id = await _webhook_and_notification(
            gateway, client, f"http://hooks.example.test:{port}/in", "unresolved_owner"
        )
        resolve = FailingFirst(error, ["127.0.0.1"])
        gateway.services["notifications"].state.ctx.runtime.resolver.current = resolve
        worker = _service_worker(gateway)
        assert await worker.tick() == 1
        [waiting] = await _history(client, owner, hook_id)
        assert waiting["status"] == "pending", waiting
        assert waiting["attempts"] == 1
        assert "hooks.example.test does not resolve" in waiting["last_error"]
        assert receiver.received == []

        async def retried() -> bool:  # once its back-off (0.05 s here) has passed
            return await worker.tick() == 1

        await eventually(retried)
        [sent] = await _history(client, owner, hook_id)
        assert (sent["status"], sent["attempts"]) == ("sent", 2)
        assert resolve.lookups == 2
        assert len(receiver.received) == 1
        [hook] = (await client.get("/notifications/webhooks", headers=owner.headers)).json()
        assert (hook["active"], hook["consecutive_failures"]) == (True, 0)


async def test_registration_asks_to_retry_a_name_that_could_not_be_resolved_now(
    tmp_path: Path,
) -> None:
    async with notifications_gateway(tmp_path, run_worker=False, webhook_private_targets=False) as (
        gateway,
        client,
    ):
        ctx = gateway.services["notifications"].state.ctx
        owner = await signed_up(client, "retry_owner")

        async def register() -> httpx.Response:
            return await client.post(
                "/notifications/webhooks",
                json={"url": "https://hooks.example.test/in"},
                headers=owner.headers,
            )

        ctx.runtime.resolver.current = FailingFirst(RESOLUTION_ERRORS["temporary"], [PUBLIC])
        unavailable = await register()
        assert unavailable.status_code == 503, unavailable.text
        assert "could not be resolved just now" in unavailable.json()["detail"]
        assert (await register()).status_code == 201  # the DNS server is back
        ctx.runtime.resolver.current = FailingFirst(RESOLUTION_ERRORS["no-such-name"], [PUBLIC])
        missing = await register()
        assert missing.status_code == 400, missing.text
        assert "hooks.example.test does not resolve" in missing.json()["detail"]


# Registration resolves the name before its transaction, not inside it --------------------------

# Waits that only guard against a hang: what they wait for takes milliseconds.
HANG_GUARD_SECONDS = 30


class HeldResolver:
    """A DNS server that answers only when the test lets it: says when it was asked, then waits
    for ``release``."""

    def __init__(self, answer: Sequence[str]) -> None:
        self.answer = list(answer)
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.set()
        await self.release.wait()
        return self.answer


async def test_a_slow_lookup_at_registration_holds_no_write_lock(tmp_path: Path) -> None:
    """SQLite has one write lock: a registration that looked the name up inside its write
    transaction held every other notifications write back for as long as DNS took (up to 5 s).
    Here the lookup waits until the test lets it, and another write goes through meanwhile."""
    async with notifications_gateway(tmp_path, run_worker=False, webhook_private_targets=False) as (
        gateway,
        client,
    ):
        owner, reader = await signed_up(client, "slow_dns_owner"), await signed_up(client, "reader")
        held = HeldResolver([PUBLIC])
        gateway.services["notifications"].state.ctx.runtime.resolver.current = held
        registering = asyncio.create_task(
            client.post(
                "/notifications/webhooks",
                json={"url": "https://slow.example.test/in"},
                headers=owner.headers,
            )
        )
        try:
            await asyncio.wait_for(held.asked.wait(), HANG_GUARD_SECONDS)
            # A write of the same database while the registration waits on DNS.
            read_all = await asyncio.wait_for(
                client.post("/notifications/read_all", headers=reader.headers),
                HANG_GUARD_SECONDS,
            )
            assert read_all.status_code == 204, read_all.text
            assert not registering.done()  # still waiting for its answer
        finally:
            held.release.set()
        made = await asyncio.wait_for(registering, HANG_GUARD_SECONDS)
        assert made.status_code == 201, made.text
        [hook] = (await client.get("/notifications/webhooks", headers=owner.headers)).json()
        assert hook["url"] == "https://slow.example.test/in"
