"""The call state machine: ringing, first answer wins, candidates, hangups, timers, glare.

A call lives in the process where it was placed (its "home"); frames for it
from any process come here as events. Its record is in the shared store (at
invite and answer), so when its home dies another process adopts it
(call_recovery.py). Each event is decided synchronously
(state changes before any await), then its frames are delivered. The server
relays SDP and candidates between the two parties only, and never reads them.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from signaling import call_log, clock
from signaling.state_store import StoreUnavailable

if TYPE_CHECKING:
    from signaling.hub import Hub

MAX_HELD_CANDIDATES = 200
CANDIDATES_PER_FRAME = 50


@dataclass
class Call:
    call_id: str
    caller_id: int
    caller_email: str
    caller_device: str
    caller_addr: str
    callee_id: int
    callee_email: str
    started_at: datetime
    ringing: dict[str, str] = field(default_factory=dict)  # address -> device_id
    answered_addr: str | None = None
    answered_device: str | None = None
    answered_at: datetime | None = None
    held: list[dict[str, Any]] = field(default_factory=list)  # the caller's, until an answer is chosen
    held_callee: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    grace: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    dead_roles: set[str] = field(default_factory=set)  # in grace because their process stopped beating
    ended: bool = False

    @property
    def pair(self) -> tuple[int, int]:
        return (self.caller_id, self.callee_id)

    def parties(self) -> list[tuple[int, str]]:
        parties = [(self.caller_id, self.caller_device)]
        if self.answered_device:
            parties.append((self.callee_id, self.answered_device))
        return parties


Out = list[tuple[str, dict[str, Any]]]


def error(code: str, frame: dict[str, Any], message: str | None = None) -> dict[str, Any]:
    from numfree.errors import error_body

    reply: dict[str, Any] = {"type": "error", **error_body(code, message)}
    if frame.get("id") is not None:
        reply["id"] = frame["id"]
    if frame.get("call_id"):
        reply["call_id"] = frame["call_id"]
    return reply


def relayed(frame: dict[str, Any], sender_email: str) -> dict[str, Any]:
    out = {k: v for k, v in frame.items() if k != "id"}
    out["from"] = sender_email
    return out


class CallRegistry:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.calls: dict[str, Call] = {}

    # --- entry point ---
    async def handle(self, event: dict[str, Any]) -> None:
        op = event["op"]
        if op == "invite":
            await self._invite(event)
            return
        call = self.calls.get(event["call_id"])
        if op in ("gone", "back", "replaced"):
            if call is not None and not call.ended:
                await self._send(getattr(self, f"_{op}")(call, event))
            return
        if call is None or call.ended or not self._is_party(call, event):
            await self._reply(event, error("unknown_call", event["frame"]))
            return
        was_answered = call.answered_addr is not None
        out = getattr(self, f"_{op.replace('call.', '')}")(call, event)
        if op == "call.answer" and not was_answered and call.answered_addr is not None:
            # Recorded before the answer is relayed: once the caller has it, a death of this
            # process leaves an answered call for another to adopt, never a ringing one.
            await self._after_answer(call)
        await self._send(out, event)

    async def _reply(self, event: dict[str, Any], frame: dict[str, Any]) -> None:
        await self.hub.deliver(event["addr"], frame)

    async def _send(self, out: Out, event: dict[str, Any] | None = None) -> None:
        """Deliver frames; one that can't reach the other party is reported to its sender."""
        for address, frame in out:
            delivered = await self.hub.deliver(address, frame)
            if not delivered and event is not None and address != event["addr"] and frame.get("from"):
                await self._reply(event, error("not_delivered", event["frame"]))

    @staticmethod
    def _is_party(call: Call, event: dict[str, Any]) -> bool:
        return event["user_id"] in (call.caller_id, call.callee_id)

    # --- placing a call ---
    async def _invite(self, event: dict[str, Any]) -> None:
        frame = event["frame"]
        call_id = frame["call_id"]
        store = self.hub.store
        if call_id in self.calls or await store.home(call_id) is not None:
            await self._reply(event, error("call_exists", frame))
            return
        call = Call(
            call_id=call_id,
            caller_id=event["user_id"],
            caller_email=event["email"],
            caller_device=event["device_id"],
            caller_addr=event["addr"],
            callee_id=event["to_user_id"],
            callee_email=frame["to"],
            started_at=clock.now(),
        )
        self.calls[call_id] = call
        self.hub.log(call_log.log_call_started, call_id, call.caller_id, call.callee_id, call.started_at)
        try:
            await store.set_home(call_id, self.hub.registry_address, self._record(call))
            await store.add_device_call(call.caller_id, call.caller_device, call_id, self.hub.registry_address)
            devices = await store.devices(call.callee_id)
            waiting = await store.pend(
                call_id, call.pair, {"home": self.hub.registry_address, "caller_id": call.caller_id}
            )
        except StoreUnavailable:
            await self._send(self._end(call, "unknown_error", missed=False, notify=[]))
            await self._reply(event, error("service_unavailable", frame))
            return
        if call.ended:  # hung up while we were looking up the callee
            return
        if not devices:
            await self._send(self._end(call, "offline", missed=True, notify=[call.caller_addr]))
            return
        for other_id, info in waiting.items():
            if other_id == call_id or info.get("caller_id") != call.callee_id:
                continue
            # Glare: both invited each other; the lower call_id (byte order) survives.
            if call_id > other_id:
                await self._send(self._end(call, "replaced", missed=False, notify=[call.caller_addr]))
                return
            await self.hub.to_registry(info["home"], {"op": "replaced", "call_id": other_id})
        call.ringing = {address: device_id for device_id, address in devices.items()}
        invite = {
            "type": "call.invite",
            "call_id": call_id,
            "from": call.caller_email,
            "sdp": frame["sdp"],
            "lifetime_ms": self.hub_setting("SIGNALING_INVITE_LIFETIME_MS"),
        }
        if "sas_commitment" in frame:  # the verification code's commitment, passed on untouched
            invite["sas_commitment"] = frame["sas_commitment"]
        call.timer = clock.call_later("SIGNALING_INVITE_LIFETIME_MS", lambda: self._spawn(self._timeout(call)))
        delivered = [address for address in list(call.ringing) if await self.hub.deliver(address, invite)]
        if not delivered and not call.ended and call.answered_addr is None:
            await self._send(self._end(call, "offline", missed=True, notify=[call.caller_addr]))
            return
        await self._reply(event, {"type": "call.status", "call_id": call_id, "status": "ringing"})

    @staticmethod
    def _record(call: Call) -> dict[str, Any]:
        """What another process needs to adopt the call (no emails, no SDP)."""
        return {
            "caller_id": call.caller_id,
            "caller_device": call.caller_device,
            "caller_addr": call.caller_addr,
            "callee_id": call.callee_id,
            "started_at": call.started_at.isoformat(),
        }

    @staticmethod
    def hub_setting(name: str) -> int:
        from django.conf import settings

        return int(getattr(settings, name))

    def _spawn(self, coro: Any) -> None:
        self.hub.loop.create_task(coro)

    # --- frames from the parties ---
    def _answer(self, call: Call, event: dict[str, Any]) -> Out:
        frame = event["frame"]
        if event["user_id"] != call.callee_id:
            return [(event["addr"], error("unknown_call", frame))]
        if call.answered_addr is not None:
            return [(event["addr"], error("already_answered", frame))]
        call.answered_addr, call.answered_device = event["addr"], event["device_id"]
        call.answered_at = clock.now()
        self._cancel(call.timer)
        self.hub.log(call_log.log_call_answered, call.call_id, call.caller_id, call.callee_id, call.answered_at)
        out: Out = [(call.caller_addr, relayed(frame, call.callee_email))]
        for address in call.ringing:
            if address != call.answered_addr:
                out.append((address, {"type": "call.answered_elsewhere", "call_id": call.call_id}))
        for start in range(0, len(call.held), CANDIDATES_PER_FRAME):
            batch = call.held[start : start + CANDIDATES_PER_FRAME]
            out.append(
                (
                    call.answered_addr,
                    {
                        "type": "call.candidates",
                        "call_id": call.call_id,
                        "candidates": batch,
                        "from": call.caller_email,
                    },
                )
            )
        call.held = []
        for candidates in call.held_callee.pop(call.answered_addr, [])[:1]:
            out.append((call.caller_addr, candidates))
        call.held_callee.clear()
        return out

    async def _after_answer(self, call: Call) -> None:
        store = self.hub.store
        with contextlib.suppress(StoreUnavailable):
            await store.add_device_call(
                call.callee_id, call.answered_device or "", call.call_id, self.hub.registry_address
            )
            await store.update_call(
                call.call_id,
                {
                    "answered_device": call.answered_device,
                    "answered_addr": call.answered_addr,
                    "answered_at": call.answered_at.isoformat() if call.answered_at else None,
                },
            )
            await store.unpend(call.call_id, call.pair)

    def _reject(self, call: Call, event: dict[str, Any]) -> Out:
        frame = event["frame"]
        if event["user_id"] != call.callee_id:
            return [(event["addr"], error("unknown_call", frame))]
        if call.answered_addr is not None:
            return [(event["addr"], error("already_answered", frame))]
        others = [a for a in call.ringing if a != event["addr"]]
        return self._end(call, "rejected", missed=False, notify=[call.caller_addr, *others], sender=event)

    def _candidates(self, call: Call, event: dict[str, Any]) -> Out:
        frame = event["frame"]
        if event["user_id"] == call.caller_id:
            if event["addr"] != call.caller_addr:
                return [(event["addr"], error("unknown_call", frame))]
            if call.answered_addr is not None:
                return [(call.answered_addr, relayed(frame, call.caller_email))]
            if len(call.held) + len(frame["candidates"]) > MAX_HELD_CANDIDATES:
                return [(event["addr"], error("too_many_candidates", frame))]
            call.held.extend(frame["candidates"])
            return []
        if call.answered_addr == event["addr"]:
            return [(call.caller_addr, relayed(frame, call.callee_email))]
        if call.answered_addr is None and event["addr"] in call.ringing:
            held = call.held_callee.setdefault(event["addr"], [])
            if held:
                held[0]["candidates"].extend(frame["candidates"])
                held[0]["candidates"] = held[0]["candidates"][:MAX_HELD_CANDIDATES]
            else:
                held.append(relayed(frame, call.callee_email))
            return []
        return [(event["addr"], error("unknown_call", frame))]

    def _negotiate(self, call: Call, event: dict[str, Any]) -> Out:
        return self._to_peer(call, event, "Renegotiate only after the call is answered.")

    def _sas_reveal(self, call: Call, event: dict[str, Any]) -> Out:
        return self._to_peer(call, event, "Reveal the verification nonce only after the call is answered.")

    def _to_peer(self, call: Call, event: dict[str, Any], too_early: str) -> Out:
        """Relays a frame between the two parties of an answered call, in either direction."""
        frame = event["frame"]
        peer = self._peer_of(call, event)
        if peer is None:
            return [(event["addr"], error("unknown_call", frame))]
        if call.answered_addr is None:
            return [(event["addr"], error("invalid_state", frame, too_early))]
        sender_email = call.caller_email if event["user_id"] == call.caller_id else call.callee_email
        return [(peer, relayed(frame, sender_email))]

    def _hangup(self, call: Call, event: dict[str, Any]) -> Out:
        frame = event["frame"]
        reason = frame["reason"]
        if event["user_id"] == call.caller_id:
            if event["addr"] != call.caller_addr:
                return [(event["addr"], error("unknown_call", frame))]
            if call.answered_addr is None:
                return self._end(call, reason, missed=True, notify=list(call.ringing), sender=event)
            return self._end(call, reason, missed=False, notify=[call.answered_addr], sender=event)
        if call.answered_addr is not None:
            if event["addr"] != call.answered_addr:
                return [(event["addr"], error("unknown_call", frame))]
            return self._end(call, reason, missed=False, notify=[call.caller_addr], sender=event)
        others = [a for a in call.ringing if a != event["addr"]]
        return self._end(call, reason, missed=False, notify=[call.caller_addr, *others], sender=event)

    @staticmethod
    def _peer_of(call: Call, event: dict[str, Any]) -> str | None:
        if event["user_id"] == call.caller_id and event["addr"] == call.caller_addr:
            return call.answered_addr or ""
        if call.answered_addr is not None and event["addr"] == call.answered_addr:
            return call.caller_addr
        return None

    # --- devices dropping and coming back ---
    def _gone(self, call: Call, event: dict[str, Any]) -> Out:
        address = event["addr"]
        if address != call.answered_addr:
            call.ringing.pop(address, None)
        for role, party_addr in (("caller", call.caller_addr), ("callee", call.answered_addr)):
            if address == party_addr and role not in call.grace:
                other = call.answered_addr if role == "caller" else call.caller_addr
                call.grace[role] = clock.call_later(
                    "SIGNALING_RECONNECT_GRACE_MS", lambda r=role, o=other: self._spawn(self._grace_over(call, r, o))
                )
        return []

    def _back(self, call: Call, event: dict[str, Any]) -> Out:
        if event["user_id"] == call.caller_id and event["device_id"] == call.caller_device:
            call.caller_addr = event["addr"]
            call.dead_roles.discard("caller")
            self._cancel(call.grace.pop("caller", None))
        elif event["user_id"] == call.callee_id and event["device_id"] == call.answered_device:
            call.answered_addr = event["addr"]
            call.dead_roles.discard("callee")
            self._cancel(call.grace.pop("callee", None))
        return []

    async def _grace_over(self, call: Call, role: str, other: str | None) -> None:
        if call.ended or role not in call.grace:
            return
        notify = [other] if other else list(call.ringing)
        await self._send(self._end(call, "offline", missed=call.answered_addr is None, notify=notify))

    def _replaced(self, call: Call, event: dict[str, Any]) -> Out:
        if call.answered_addr is not None:
            return []
        return self._end(call, "replaced", missed=False, notify=[call.caller_addr, *call.ringing])

    async def _timeout(self, call: Call) -> None:
        if call.ended or call.answered_addr is not None:
            return
        await self._send(self._end(call, "invite_timeout", missed=True, notify=[call.caller_addr, *call.ringing]))

    # --- ending ---
    def _end(
        self,
        call: Call,
        reason: str,
        *,
        missed: bool,
        notify: list[str],
        sender: dict[str, Any] | None = None,
    ) -> Out:
        call.ended = True
        self._cancel(call.timer)
        for handle in call.grace.values():
            self._cancel(handle)
        self.calls.pop(call.call_id, None)
        ended_at = clock.now()
        self.hub.log(
            call_log.log_call_ended, call.call_id, call.caller_id, call.callee_id, ended_at, reason, missed=missed
        )
        self._spawn(self._forget(call))
        hangup: dict[str, Any] = {"type": "call.hangup", "call_id": call.call_id, "reason": reason}
        if sender is not None:
            hangup["from"] = call.caller_email if sender["user_id"] == call.caller_id else call.callee_email
        return [(address, hangup) for address in dict.fromkeys(notify) if address]

    async def _forget(self, call: Call) -> None:
        with contextlib.suppress(StoreUnavailable):
            await self.hub.store.forget_call(call.call_id, call.parties(), call.pair, home=self.hub.registry_address)

    @staticmethod
    def _cancel(handle: asyncio.TimerHandle | None) -> None:
        if handle is not None:
            handle.cancel()
