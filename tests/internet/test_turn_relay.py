"""Our coturn (deploy/), seen from a caller's home: it relays for the credentials NumFree hands out, over
UDP, TCP and TLS, refuses stale or forged ones, refuses to reach private and special-purpose
addresses, and writes no caller's address to its log.

The production ranges stay denied here; the test lets through only its own /24 of the internet
(198.18.0.0/24, itself inside the denied benchmarking range 198.18.0.0/15).
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from aioice import stun, turn

from signaling.ice import turn_credentials
from tests.e2e.netns import run_in_named_namespace
from tests.internet.conftest import Relay
from tests.internet.topology import SERVER_IP

T = TypeVar("T")
UDP, TCP, TLS = ("udp", 3478), ("tcp", 3478), ("tls", 5349)


def from_home(relay: Relay, work: Callable[[], Awaitable[T]]) -> T:
    """Runs the coroutine on a thread inside home a, behind its router."""
    return run_in_named_namespace(
        relay.internet.homes["a"].namespace, lambda: asyncio.run(asyncio.wait_for(work(), 20))
    )


async def allocation(
    relay: Relay, username: str, password: str, via: tuple[str, int] = UDP
) -> tuple[turn.TurnClientMixin, asyncio.BaseTransport]:
    """A TURN client connected to our relay over UDP, TCP or TLS, with its allocation made (or refused)."""
    loop = asyncio.get_running_loop()
    server = (SERVER_IP, via[1])
    inner: Any
    if via[0] == "udp":
        transport, inner = await loop.create_datagram_endpoint(
            lambda: turn.TurnClientUdpProtocol(server, username, password, 600, 500), remote_addr=server
        )
    else:
        context = None
        if via[0] == "tls":
            context = ssl.create_default_context(cafile=str(relay.cert))
        transport, inner = await loop.create_connection(
            lambda: turn.TurnClientTcpProtocol(server, username, password, 600, 500),
            host=SERVER_IP,
            port=via[1],
            ssl=context,
        )
    try:
        await inner.connect()
    except BaseException:
        transport.close()
        raise
    return inner, transport


async def release(inner: turn.TurnClientMixin, transport: asyncio.BaseTransport) -> None:
    await inner.delete()
    transport.close()


async def refused_with(relay: Relay, username: str, password: str) -> int:
    try:
        inner, transport = await allocation(relay, username, password)
    except stun.TransactionFailed as exc:
        return exc.response.error_code
    await release(inner, transport)
    return 200


async def permission(inner: turn.TurnClientMixin, peer: str) -> int:
    """The answer to a CreatePermission for the peer: 200, or coturn's error code."""
    request = stun.Message(message_method=stun.Method.CREATE_PERMISSION, message_class=stun.Class.REQUEST)
    request.attributes["XOR-PEER-ADDRESS"] = (peer, 9)
    try:
        await inner.request_with_retry(request)
    except stun.TransactionFailed as exc:
        return exc.response.error_code
    return 200


@pytest.mark.parametrize("via", [UDP, TCP, TLS], ids=["udp", "tcp", "tls-5349"])
def test_our_relay_allocates_for_the_credentials_numfree_hands_out(relay: Relay, via: tuple[str, int]) -> None:
    username, password = turn_credentials(relay.secret, 600)

    async def allocate() -> tuple[str, int]:
        inner, transport = await allocation(relay, username, password, via)
        try:
            assert inner.relayed_address is not None
            return inner.relayed_address
        finally:
            await release(inner, transport)

    relayed = from_home(relay, allocate)
    assert relayed[0] == SERVER_IP


def test_our_relay_refuses_expired_and_forged_credentials_with_401(relay: Relay) -> None:
    fresh = turn_credentials(relay.secret, 600)
    expired = turn_credentials(relay.secret, 60, now=time.time() - 120)  # expired a minute ago
    forged = turn_credentials("not-our-secret-" * 3, 600)
    username = fresh[0]

    async def answers() -> dict[str, int]:
        return {
            "fresh": await refused_with(relay, *fresh),
            "expired": await refused_with(relay, *expired),
            "forged": await refused_with(relay, *forged),
            "wrong password": await refused_with(relay, username, expired[1]),
        }

    assert from_home(relay, answers) == {"fresh": 200, "expired": 401, "forged": 401, "wrong password": 401}


PRIVATE_PEERS = [
    "10.2.0.2",  # the other home, behind its router
    "10.1.0.1",  # this home's own router
    "127.0.0.1",
    "169.254.169.254",  # cloud metadata
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "198.18.1.1",  # benchmarking range, outside the test's own /24
    "0.0.0.0",
    "224.0.0.1",
]


def test_our_relay_refuses_to_reach_private_and_special_addresses_with_403(relay: Relay) -> None:
    username, password = turn_credentials(relay.secret, 600)
    public_router = relay.internet.homes["b"].public_address

    async def answers() -> dict[str, int]:
        inner, transport = await allocation(relay, username, password)
        try:
            return {peer: await permission(inner, peer) for peer in [public_router, *PRIVATE_PEERS]}
        finally:
            await release(inner, transport)

    assert from_home(relay, answers) == {public_router: 200, **dict.fromkeys(PRIVATE_PEERS, 403)}


def test_our_relays_log_holds_no_caller_address(relay: Relay) -> None:
    username, password = turn_credentials(relay.secret, 600)

    async def refused_peer() -> int:
        inner, transport = await allocation(relay, username, password)
        try:
            return await permission(inner, "10.2.0.2")
        finally:
            await release(inner, transport)

    assert from_home(relay, refused_peer) == 403
    deadline = time.monotonic() + 10
    while "denied" not in relay.log_text():  # coturn logs the refusal, naming the address it refused
        assert time.monotonic() < deadline, relay.log_text()[-2000:]
        time.sleep(0.05)
    log = relay.log_text()
    assert re.search(r"peer IP <ip> denied", log), log[-2000:]
    assert not re.search(r"\d+\.\d+\.\d+\.\d+", log), "an IPv4 address in the relay's log"
    for address in ("10.1.0.2", "10.2.0.2", "198.18.0.1", "198.18.0.2", SERVER_IP):
        assert address not in log
    assert relay.secret not in log
