"""Which IP addresses webhooks may be sent to. Pure."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

__all__ = ["AddressPolicy", "IPNetwork", "ip_literal", "parse_networks"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in net for net in self._allowed):
            return True
        return ip.is_global and not ip.is_multicast

    def refusal(self, host: str, addresses: Iterable[str]) -> str | None:
        found = list(addresses)
        blocked = [a for a in found if not self.allows(a)]
        if found and len(blocked) == len(found):
            return (
                f"{host} resolves to {', '.join(sorted(set(blocked)))}, a loopback, private,"
                " link-local, multicast or reserved address; webhooks go to public addresses"
                " only (SENDOUT_ALLOWED_PRIVATE_NETWORKS opens chosen ranges)"
            )
        return None


def ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None
