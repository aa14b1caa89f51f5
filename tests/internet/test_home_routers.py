"""The premise of the NAT test, checked on its own: two callers behind ordinary home routers can open
a direct UDP path with what our STUN server tells them (their public mappings), and a symmetric
router leaves them none, so only the relay can carry their call."""

from __future__ import annotations

import select
import socket
import time

from aioice import stun

from tests.e2e.netns import run_in_named_namespace
from tests.internet.conftest import Relay
from tests.internet.topology import SERVER_IP

PUNCH_S = 1.5  # 30 rounds, 50 ms apart: an ordinary pair connects in the first few


def udp_socket_in(namespace: str) -> socket.socket:
    def make() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("0.0.0.0", 0))  # every address of the caller's home
        sock.settimeout(0.5)
        return sock

    return run_in_named_namespace(namespace, make)  # the socket stays in the namespace it was made in


def public_mapping(sock: socket.socket) -> tuple[str, int]:
    """What our STUN server sees of this socket: its address and port on the router."""
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    for _ in range(6):
        sock.sendto(bytes(request), (SERVER_IP, 3478))
        try:
            data, _ = sock.recvfrom(2048)
        except TimeoutError:
            continue
        response = stun.parse_message(data)
        if response.transaction_id == request.transaction_id:
            return response.attributes["XOR-MAPPED-ADDRESS"]
    raise AssertionError("our STUN server did not answer")


def punch(relay: Relay) -> dict[str, bool]:
    """Both send to each other's public mapping until each heard the other or PUNCH_S passed."""
    homes = relay.internet.homes
    a, b = udp_socket_in(homes["a"].namespace), udp_socket_in(homes["b"].namespace)
    try:
        mapping = {a: public_mapping(a), b: public_mapping(b)}
        heard = {a: False, b: False}
        deadline = time.monotonic() + PUNCH_S
        while not all(heard.values()) and time.monotonic() < deadline:
            a.sendto(b"from a", mapping[b])
            b.sendto(b"from b", mapping[a])
            readable, _, _ = select.select([a, b], [], [], 0.05)
            for sock in readable:
                data, _ = sock.recvfrom(2048)
                heard[sock] = heard[sock] or data.startswith(b"from ")
        return {"a heard b": heard[a], "b heard a": heard[b]}
    finally:
        a.close()
        b.close()


def test_ordinary_home_routers_let_a_direct_path_through_and_a_symmetric_one_does_not(relay: Relay) -> None:
    assert punch(relay) == {"a heard b": True, "b heard a": True}
    relay.internet.set_nat("a", symmetric=True)
    try:
        assert punch(relay) == {"a heard b": False, "b heard a": False}
    finally:
        relay.internet.set_nat("a", symmetric=False)
