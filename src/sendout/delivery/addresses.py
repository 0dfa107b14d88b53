"""Which IP addresses webhooks may be sent to. Pure."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

__all__ = ["AddressPolicy", "IPNetwork", "embedded_ipv4", "ip_literal", "parse_networks"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# IPv6 ranges that carry an IPv4 address in their last 32 bits (docs/security.md). A request to
# one of them reaches (or may reach, through a translator or a tunnel) the IPv4 address inside.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 IPv4-translated
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291 IPv4-compatible, deprecated
# RFC 8215 local-use NAT64: each network chooses the prefix length, so where the IPv4 address
# sits is unknown; it is not globally reachable and is refused unless an operator opens it.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """``"127.0.0.0/8, 10.1.0.0/16"`` → networks; ``ValueError`` names the bad entry."""
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not a CIDR range such as 127.0.0.0/8") from None
    return tuple(networks)


class AddressPolicy:
    """Public unicast addresses are allowed; ``allowed`` networks are opened on top of that."""

    def __init__(self, allowed: Sequence[IPNetwork] = ()) -> None:
        self._allowed = tuple(allowed)

    def allows(self, address: str) -> bool:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        if self._opened(ip):
            return True
        if isinstance(ip, ipaddress.IPv4Address):
            return self._public(ip)
        if ip in _NAT64_LOCAL:
            return False
        inside = embedded_ipv4(ip)
        if ip.teredo is not None:
            # Teredo: the server and the client address must both be allowed, and so must the
            # IPv6 address itself (2001::/32 is not globally reachable).
            return self._public(ip) and all(self._allows_ipv4(v4) for v4 in inside)
        if inside:
            return all(self._allows_ipv4(v4) for v4 in inside)
        return self._public(ip)

    def _allows_ipv4(self, ip: ipaddress.IPv4Address) -> bool:
        return self._opened(ip) or self._public(ip)

    def _opened(self, ip: IPAddress) -> bool:
        return any(ip in net for net in self._allowed)

    @staticmethod
    def _public(ip: IPAddress) -> bool:
        return ip.is_global and not ip.is_multicast

    def refusal(self, host: str, addresses: Iterable[str]) -> str | None:
        found = list(addresses)
        blocked = [a for a in found if not self.allows(a)]
        if found and len(blocked) == len(found):
            shown = ", ".join(sorted({_shown(a) for a in blocked}))
            return (
                f"{host} resolves to {shown}, a loopback, private, link-local, multicast or"
                " reserved address; webhooks go to public addresses only"
                " (SENDOUT_ALLOWED_PRIVATE_NETWORKS opens chosen ranges)"
            )
        return None


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries: mapped, translated, compatible, NAT64 (the
    well-known prefix), 6to4, or Teredo (server and client); ``()`` for any other address."""
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo
    if ip in _NAT64 or ip in _TRANSLATED or ip in _COMPATIBLE:
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    return ()


def _shown(address: str) -> str:
    """``::7f00:1`` → ``::7f00:1 (IPv4 127.0.0.1)``: the refusal names what was judged."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    inside = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else ()
    return f"{address} (IPv4 {', '.join(map(str, inside))})" if inside else address


def ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None
