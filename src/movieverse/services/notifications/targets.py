"""Where a webhook may be delivered, decided once per delivery.

A webhook's host name is resolved once, every address it resolves to is checked, and the
delivery then connects to exactly a checked address (:func:`pin`). Checking a name and letting
the HTTP client resolve it again would leave a window in which a name that first answered a
public address answers ``127.0.0.1`` (DNS rebinding): the check would pass and the request would
land inside the server's own network.

Outside the addresses that are reachable on the public Internet nothing is a webhook target
where private targets are not allowed: loopback, private, shared (carrier NAT), link-local,
site-local, multicast, reserved, unspecified, documentation and benchmarking ranges, and IPv6
forms that carry one of those IPv4 addresses inside (IPv4-mapped, IPv4-compatible, NAT64, 6to4).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# A host name and port to the addresses they resolve to (text, as getaddrinfo gives them). The
# worker and the webhook checks take one, so tests can answer what a DNS server would.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
# IPv6 prefixes whose addresses stand for an IPv4 address in their last 32 bits (RFC 6052 NAT64,
# well-known and local-use prefixes): a gateway would deliver to that IPv4 address.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# What Python's ``is_global`` misses on some versions (3.11 counts these as global).
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "240.0.0.0/4",  # reserved, and the broadcast address
        "fec0::/10",  # site-local (deprecated, still routed privately)
        "2001:db8::/32",  # documentation
    )
)


class TargetRefused(Exception):
    """A webhook URL that may not be delivered to here; the message says why. Final: asking
    again gives the same answer (the URL itself, or the address policy, refuses it)."""


class TargetUnresolved(Exception):
    """A webhook's host name gave no address this time: the DNS server failed or timed out, or
    the name has no address (yet). Not a refusal: DNS servers come back and names get fixed,
    so a delivery tries again later. ``definite`` when the answer was "no such name" rather
    than a failure to get an answer (registration refuses the first, and asks to retry the
    second)."""

    def __init__(self, message: str, *, definite: bool) -> None:
        super().__init__(message)
        self.definite = definite


# getaddrinfo's answers that mean the name has no address, as opposed to "could not find out"
# (EAI_AGAIN, EAI_FAIL, a timeout, a network error).
_NO_SUCH_NAME = frozenset(
    code for code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if code is not None
)


def _unresolved(host: str, error: OSError) -> TargetUnresolved:
    definite = isinstance(error, socket.gaierror) and error.errno in _NO_SUCH_NAME
    return TargetUnresolved(f"{host} does not resolve ({error})", definite=definite)


def forbidden_address(address: IPAddress) -> str | None:
    """Why an address is no webhook target where private ones are not allowed, or None."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            why = forbidden_address(embedded)
            return f"it carries {embedded}, {why}" if why else None
    for label, flagged in (
        ("an unspecified address", address.is_unspecified),
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
    ):
        if flagged:
            return label
    if any(address in block for block in _NOT_PUBLIC) or not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in prefix for prefix in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    # IPv4-compatible (::a.b.c.d, deprecated); :: and ::1 themselves are judged as IPv6.
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def is_local_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host in LOCAL_NAMES or host.endswith(".localhost")


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def parse(url: str) -> httpx.URL:
    """A webhook URL as the HTTP client reads it (checks and delivery read it the same way):
    http(s), a host, no credentials."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise TargetRefused("it is not a valid URL") from exc
    try:
        # Decoding the host is where an invalid A-label (``xn--zz``) fails (idna.IDNAError, a
        # UnicodeError), and the IDNA codec is what getaddrinfo would fail on (an empty label,
        # or one over 63 characters): refused here, not a 500 here or at every delivery.
        host = parsed.host
        if host and literal_address(host) is None:
            parsed.raw_host.decode("ascii").encode("idna")
    except ValueError as exc:  # UnicodeError and IDNAError are ValueErrors
        raise TargetRefused("its host is not a valid domain name") from exc
    if parsed.scheme not in {"http", "https"} or not host:
        raise TargetRefused("a webhook URL is http:// or https:// with a host")
    if parsed.userinfo:
        raise TargetRefused("a webhook URL may not carry credentials; it is signed instead")
    return parsed


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer (what the HTTP client itself would have used)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class PinnedTarget:
    """A webhook URL resolved once and checked: where to connect and what to call the host."""

    url: httpx.URL  # as registered
    host_header: str  # the registered host (and port), as the client would have sent it
    server_hostname: str | None  # the TLS name (SNI, certificate check); None for http
    addresses: tuple[IPAddress, ...]  # every one checked, in the resolver's order

    def url_for(self, address: IPAddress) -> httpx.URL:
        """The URL with the host replaced by one checked address, so the client opens its
        connection there and resolves nothing itself."""
        return self.url.copy_with(host=str(address))


async def pin(url: str, *, resolve: Resolver, private_allowed: bool) -> PinnedTarget:
    """Resolve the URL's host once and check every address. Raises :class:`TargetRefused`
    (final) for a URL or an address the policy refuses, :class:`TargetUnresolved` (worth
    another try) when the name gave no address."""
    parsed = parse(url)
    host = parsed.host
    if not private_allowed and is_local_name(host):
        raise TargetRefused(f"{host} is a loopback name")
    literal = literal_address(host)
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            answered = await resolve(parsed.raw_host.decode("ascii"), port)
        except OSError as exc:
            raise _unresolved(host, exc) from exc
        except ValueError as exc:  # a name the resolver cannot even encode: it never will
            raise TargetRefused(f"{host} is not a valid domain name") from exc
        addresses = tuple(a for a in (literal_address(text) for text in answered) if a)
        if not addresses:
            raise TargetUnresolved(f"{host} resolves to no address", definite=True)
    if not private_allowed:
        for address in addresses:
            why = forbidden_address(address)
            if why is not None:
                shown = "" if literal is not None else f"{host} resolves to "
                raise TargetRefused(
                    f"{shown}{address}, {why}: private targets are not allowed here"
                )
    return PinnedTarget(
        url=parsed,
        host_header=parsed.netloc.decode("ascii"),
        # A literal address is its own TLS name; a certificate must then name the address.
        server_hostname=(
            parsed.raw_host.decode("ascii")
            if parsed.scheme == "https" and literal is None
            else None
        ),
        addresses=addresses,
    )
