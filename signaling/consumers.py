"""The signaling WebSocket consumer at /ws/signaling/: authentication, limits, and routing frames.

Thin by design: frames are checked by schema.py, calls are decided by
calls.py, identity and contacts come from auth.py, and delivery goes
through the process hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from numfree.errors import error_body
from signaling import clock
from signaling.auth import AuthFailure, Identity, authenticate, load_contacts
from signaling.calls import error
from signaling.contacts import is_mutual_contact
from signaling.frame_limiter import FrameLimiter
from signaling.hub import Hub, dumps, get_hub
from signaling.layers import Undeliverable
from signaling.notify import user_group
from signaling.schema import FrameError, parse_frame
from signaling.state_store import StoreUnavailable
from signaling.websocket import PlainWebsocketConsumer

logger = logging.getLogger(__name__)

CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_DISABLED = 4403
CLOSE_REPLACED = 4408
CLOSE_TOO_MANY_DEVICES = 4409
CLOSE_RATE_LIMITED = 4429
# Not 1013: autobahn (daphne) lets an application send only 1000 and 3000-4999, and drops
# any other code, leaving an open dead socket. 4503: "service unavailable, retry soon".
CLOSE_TRY_AGAIN = 4503
MAX_KNOWN_CALLS = 100


class SignalingConsumer(PlainWebsocketConsumer):
    channel_layer_alias = "signaling"

    user_id: int = 0
    device_id: str = ""
    email: str = ""
    sign_in_id: str = ""
    hub: Hub | None = None
    authed = False
    left = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Every exit from the socket's task leaves the hub, even one by an exception
        (the server then closes with 1011): a socket still registered would keep its
        user online and take invites into a dead socket."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            if not self.left:
                await self.disconnect(1011)

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        self.hub = None
        self.authed = False
        self.closing = False
        self.contacts: dict[int, str] = {}
        self.seen_online: dict[int, bool] = {}
        self.homes: dict[str, str] = {}  # call_id -> the registry holding it
        self.limiter = FrameLimiter(
            float(settings.SIGNALING_RATE_PER_SECOND), float(settings.SIGNALING_RATE_BURST), clock.monotonic()
        )
        await self.accept()
        self.auth_timer = clock.call_later(
            "SIGNALING_AUTH_TIMEOUT_MS", lambda: asyncio.ensure_future(self._auth_timeout())
        )

    async def _auth_timeout(self) -> None:
        if not self.authed and not self.closing:
            await self._refuse("not_authenticated", CLOSE_NOT_AUTHENTICATED, "Send an auth frame first.")

    # --- incoming frames ---
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        if not self.limiter.admit(clock.monotonic()):
            await self._refused_frame()
            return
        if text_data is None:
            await self._error("invalid_json", {}, "Frames are JSON text, not binary.")
            return
        try:
            frame = parse_frame(text_data)
        except FrameError as exc:
            if not self.authed:
                await self._refuse("not_authenticated", CLOSE_NOT_AUTHENTICATED, "The first frame must be auth.")
                return
            # Bad frames cost more: a client sending only garbage ends up closed.
            self.limiter.charge(4, clock.monotonic())
            await self._error(exc.code, {"id": exc.frame_id}, exc.message)
            return
        if not self.authed:
            if frame["type"] != "auth":
                await self._refuse("not_authenticated", CLOSE_NOT_AUTHENTICATED, "The first frame must be auth.")
                return
            await self._auth(frame)
            return
        kind = frame["type"]
        if kind == "ping":
            await self.write(dumps({"type": "pong", **({"id": frame["id"]} if "id" in frame else {})}))
        elif kind == "auth":
            await self._error("already_authenticated", frame)
        else:
            try:
                if kind == "call.invite":
                    await self._invite(frame)
                else:
                    await self._call_frame(frame)
            except (StoreUnavailable, Undeliverable):  # Redis is down: say so, keep the socket
                await self._error("service_unavailable", frame)

    async def _refused_frame(self) -> None:
        if self.limiter.strikes > settings.SIGNALING_RATE_STRIKES:
            await self._refuse("rate_limited", CLOSE_RATE_LIMITED, "Too many frames.")
        else:
            await self._error("rate_limited", {}, "Too many frames; this one was not processed.")

    async def _invite(self, frame: dict[str, Any]) -> None:
        callee_id = next((uid for uid, email in self.contacts.items() if email.lower() == frame["to"]), None)
        # The socket's copy is refreshed by a push that can be lost (Redis down):
        # a call asks the database, by the same rule, before anything rings.
        if callee_id is None or not await database_sync_to_async(is_mutual_contact)(self.user_id, callee_id):
            await self._error("not_a_contact", frame)
            return
        assert self.hub is not None
        self._remember(frame["call_id"], self.hub.registry_address)
        await self.hub.registry.handle({**self._event("invite", frame), "to_user_id": callee_id})

    async def _call_frame(self, frame: dict[str, Any]) -> None:
        assert self.hub is not None
        call_id = frame["call_id"]
        home = self.homes.get(call_id)
        if home is None:
            if call_id in self.hub.registry.calls:
                home = self.hub.registry_address
            else:
                try:
                    home = await self.hub.store.home(call_id)
                except StoreUnavailable:
                    await self._error("service_unavailable", frame)
                    return
            if home is None:
                await self._error("unknown_call", frame)
                return
        if frame["type"] == "call.answer":
            self._remember(call_id, home)
        delivered, now = await self.hub.route(home, self._event(frame["type"], frame))  # adopts if home died
        if now != home and call_id in self.homes:
            self._remember(call_id, now)
        if not delivered:
            await self._error("not_delivered", frame)

    def _event(self, op: str, frame: dict[str, Any]) -> dict[str, Any]:
        return {
            "op": op,
            "call_id": frame.get("call_id"),
            "frame": frame,
            "user_id": self.user_id,
            "device_id": self.device_id,
            "email": self.email,
            "addr": self.channel_name,
        }

    def _remember(self, call_id: str, home: str) -> None:
        if len(self.homes) >= MAX_KNOWN_CALLS:
            self.homes.pop(next(iter(self.homes)))
        self.homes[call_id] = home

    # --- authentication ---
    async def _auth(self, frame: dict[str, Any]) -> None:
        self.auth_timer.cancel()
        try:
            identity: Identity = await authenticate(frame["token"])
        except AuthFailure as exc:
            await self._refuse(exc.code, exc.close_code)
            return
        self.user_id, self.email, self.sign_in_id = identity.user_id, identity.email, identity.sign_in_id
        self.device_id = frame["device_id"]
        self.contacts = identity.contacts
        self.hub = await get_hub()
        try:
            ttl = clock.seconds("SIGNALING_PRESENCE_TTL_MS")
            devices = await self.hub.store.claim_device(
                self.user_id, self.device_id, self.channel_name, clock.wall() + ttl, settings.SIGNALING_MAX_DEVICES
            )
            if devices is None:
                await self._refuse("too_many_devices", CLOSE_TOO_MANY_DEVICES)
                return
            older = devices.pop(self.device_id, None)
            if older is not None:
                await self.hub.control(older, {"type": "signal.replaced"})
            self.authed = True
            self.hub.add(self)
            await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        except (StoreUnavailable, Undeliverable):
            await self._refuse("service_unavailable", CLOSE_TRY_AGAIN)
            return
        with contextlib.suppress(StoreUnavailable):
            # Rejoin this device's live calls before saying auth.ok, so a frame
            # the other party sends once we are back is routed to this socket.
            calls = await self.hub.store.calls_of_device(self.user_id, self.device_id)
            for call_id, home in calls.items():
                self._remember(call_id, home)
                _, home = await self.hub.route(home, self._event("back", {"call_id": call_id}))
                self._remember(call_id, home)
        reply: dict[str, Any] = {"type": "auth.ok", "email": self.email}
        if "id" in frame:
            reply["id"] = frame["id"]
        await self.write(dumps(reply))
        with contextlib.suppress(StoreUnavailable):
            await self._send_snapshot()
            if not devices:
                await self._announce(online=True)

    async def _send_snapshot(self) -> None:
        assert self.hub is not None
        online = await self.hub.store.online(list(self.contacts))
        self.seen_online = {uid: uid in online for uid in self.contacts}
        contacts = [
            {"email": email, "online": uid in online}
            for uid, email in sorted(self.contacts.items(), key=lambda i: i[1])
        ]
        await self.write(dumps({"type": "presence.snapshot", "contacts": contacts}))

    async def _announce(self, *, online: bool) -> None:
        for contact_id in list(self.contacts):
            with contextlib.suppress(Undeliverable):
                await self.channel_layer.group_send(
                    user_group(contact_id), {"type": "signal.presence", "user_id": self.user_id, "online": online}
                )

    async def presence_changed(self, states: dict[int, bool]) -> None:
        for uid, online in states.items():
            if uid in self.contacts and self.seen_online.get(uid) != online:
                self.seen_online[uid] = online
                await self.write(dumps({"type": "presence.update", "email": self.contacts[uid], "online": online}))

    # --- events from other sockets and processes ---
    async def signal_frame(self, message: dict[str, Any]) -> None:
        await self.write(message["text"])

    async def signal_call(self, message: dict[str, Any]) -> None:
        assert self.hub is not None
        try:
            await self.hub.registry.handle(message["event"])
        except (StoreUnavailable, Undeliverable):
            logger.warning("signaling: a call event was dropped: Redis is unavailable")

    async def signal_home(self, message: dict[str, Any]) -> None:
        """Another process adopted one of this socket's calls (its home died)."""
        self._remember(message["call_id"], message["home"])

    async def signal_presence(self, message: dict[str, Any]) -> None:
        if self.authed:
            await self.presence_changed({message["user_id"]: message["online"]})

    async def signal_contacts(self, message: dict[str, Any]) -> None:
        if not self.authed:
            return
        self.contacts = await load_contacts(self.user_id)
        with contextlib.suppress(StoreUnavailable):
            await self._send_snapshot()

    async def signal_replaced(self, message: dict[str, Any]) -> None:
        await self._refuse("replaced", CLOSE_REPLACED)

    async def signal_revoke(self, message: dict[str, Any]) -> None:
        ids = message.get("sign_in_ids")
        if ids is None or self.sign_in_id in ids:
            if message.get("disabled"):
                await self._refuse("account_disabled", CLOSE_DISABLED)
            else:
                await self._refuse("token_revoked", CLOSE_NOT_AUTHENTICATED)

    # --- output ---
    async def write(self, text: str) -> bool:
        if self.closing:
            return False
        try:
            await self.send(text_data=text)
        except Exception:  # the transport is already gone
            return False
        return True

    async def _error(self, code: str, frame: dict[str, Any], message: str | None = None) -> None:
        await self.write(dumps(error(code, frame, message)))

    async def _refuse(self, code: str, close_code: int, message: str | None = None) -> None:
        if self.closing:
            return
        await self.write(dumps({"type": "error", **error_body(code, message)}))
        self.closing = True
        await self.close(code=close_code)

    # --- leaving ---
    async def disconnect(self, code: int) -> None:
        """Leave the hub first (no await before it), then tell calls and contacts, best effort."""
        self.closing = True
        self.left = True
        with contextlib.suppress(AttributeError):
            self.auth_timer.cancel()
        with contextlib.suppress(AttributeError):  # the task may have ended before it had a channel
            self.channel_layer.discard_channel(self.channel_name)
        if not self.authed or self.hub is None:
            return
        hub = self.hub
        hub.remove(self)
        for call_id, home in list(self.homes.items()):
            with contextlib.suppress(Exception):
                await hub.to_registry(home, self._event("gone", {"call_id": call_id}))
        # Redis down: our presence entry is no longer refreshed and lapses after SIGNALING_PRESENCE_TTL_MS.
        with contextlib.suppress(StoreUnavailable, Undeliverable):
            await hub.store.remove_device(self.user_id, self.device_id, self.channel_name)
            if not await hub.store.devices(self.user_id):
                await self._announce(online=False)
