"""Checks the STUN and TURN URLs a deployment configures (RFC 7064, RFC 7065) when settings load.

A browser given a malformed ICE server URL refuses to create the call's RTCPeerConnection at all,
so a typo in NUMFREE_TURN_URLS would fail every call; here it stops start-up instead, naming the
variable. No Django imports beyond the exception: numfree/settings.py imports this module.
"""

from __future__ import annotations

import ipaddress
import re

from django.core.exceptions import ImproperlyConfigured

STUN_SCHEMES = ("stun", "stuns")
TURN_SCHEMES = ("turn", "turns")
_HOSTNAME = re.compile(
    r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)


def _valid_host(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        try:
            return ipaddress.ip_address(host[1:-1]).version == 6
        except ValueError:
            return False
    return bool(_HOSTNAME.fullmatch(host))


def ice_url_problem(url: str, schemes: tuple[str, ...]) -> str | None:
    """Why the URL is not `scheme:host[:port]` (TURN: `[?transport=udp|tcp]`), or None when it is."""
    scheme, sep, rest = url.partition(":")
    if not sep or scheme not in schemes:
        return f"must start with {' or '.join(s + ':' for s in schemes)}"
    if rest.startswith("//") or "@" in rest:
        return "takes no // and no user (credentials come from NUMFREE_TURN_SECRET)"
    address, _, query = rest.partition("?")
    if query and (scheme not in TURN_SCHEMES or query not in {"transport=udp", "transport=tcp"}):
        return "takes no query but ?transport=udp or ?transport=tcp (TURN only)"
    host, port = address, None
    if address.startswith("["):
        end = address.find("]")
        after = address[end + 1 :] if end >= 0 else ""
        if end < 0 or (after and not after.startswith(":")):
            return "has a malformed IPv6 address"
        host, port = address[: end + 1], (after[1:] if after else None)
    elif ":" in address:
        host, port = address.rsplit(":", 1)
    if not _valid_host(host):
        return f"has no valid host ({host!r})"
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        return f"has an invalid port ({port!r})"
    return None


def checked_ice_urls(name: str, urls: list[str], schemes: tuple[str, ...]) -> list[str]:
    """The URLs unchanged, or ImproperlyConfigured naming the variable and the first bad URL."""
    for url in urls:
        problem = ice_url_problem(url, schemes)
        if problem:
            raise ImproperlyConfigured(f"{name}: {url!r} {problem}")
    return urls
