"""The client's IP address, honouring a known number of trusted proxies."""

import ipaddress
import logging
from collections.abc import Iterable

from django.http import HttpRequest

logger = logging.getLogger(__name__)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(
    request: HttpRequest,
    *,
    trusted_proxies: int,
    proxy_networks: Iterable[str] | None = None,
) -> str | None:
    """The address ``trusted_proxies`` hops back in X-Forwarded-For.

    With N proxies in front of the app, each appends the address it saw,
    so the Nth entry from the right is the client; anything further left
    is whatever the client chose to send. With 0, the socket address.

    With ``proxy_networks`` (CIDRs of our own proxies), the header is read
    only when the connecting peer is one of them, and the walk back stops
    at the first hop that is not: that hop is who talked to our proxy. A
    peer outside them is judged by its own address, whatever it sends.
    None when the header has fewer hops than the proxies must have added.
    """
    peer = request.META.get("REMOTE_ADDR")
    if trusted_proxies <= 0:
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if proxy_networks is None:
        return hops[-trusted_proxies] if len(hops) >= trusted_proxies else None
    networks = _networks(proxy_networks)
    if not _inside(peer, networks):
        return peer
    for depth in range(1, trusted_proxies + 1):
        if len(hops) < depth:
            return None
        hop = hops[-depth]
        if depth == trusted_proxies or not _inside(hop, networks):
            return hop
    return None  # unreachable: the loop returns at depth == trusted_proxies


def _networks(entries: Iterable[str]) -> list[Network]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            logger.error("invalid proxy address (CIDR) in the settings: %r", entry)
    return networks


def _inside(address: str | None, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)
