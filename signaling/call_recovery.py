"""Calls that outlive a web process: adopting the calls of a dead home, and noticing parties
whose process died under a call held here.

Every process beats a liveness stamp in the shared store (a third of
`liveness_s()`, 3 s at most). A process whose stamp is older than that is
dead: its calls are adopted by whichever process asks first, by a
compare-and-set of the call's home (`store.adopt`), when a party reattaches, a
frame for the call comes back undelivered, or a beat lists the call as an
orphan. The adopter rebuilds the call from its record, attaches each party
whose device is online on a live process (and tells that socket the new home
with a `signal.home` message), and gives a party that is not back the
reconnect grace, after which the other side gets `call.hangup` `offline` and
the call log its end. A call held here whose party was on a dead process gets
the same grace, cancelled if the party reattaches (or its process beats again).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async

from signaling import call_log, clock
from signaling.state_store import Adoption, StoreUnavailable, liveness_s, process_of

if TYPE_CHECKING:
    from signaling.calls import Call, CallRegistry

logger = logging.getLogger(__name__)


def _emails(user_ids: list[int]) -> dict[int, str]:
    from accounts.models import User

    return dict(User.objects.filter(id__in=user_ids).values_list("id", "email"))


async def adopt(registry: CallRegistry, call_id: str, expected_home: str) -> str | None:
    """Take over `call_id` if its home `expected_home` is dead. Returns where the call lives now
    (this process's registry when adopted), or None when there is no such call any more."""
    hub = registry.hub
    if call_id in registry.calls:
        return hub.registry_address
    found: Adoption = await hub.store.adopt(call_id, expected_home, hub.registry_address, liveness_s())
    if found.status == "gone":
        return None
    if found.status != "adopted" or found.record is None:
        return found.home
    try:
        await _restore(registry, call_id, found.record)
    except StoreUnavailable:
        logger.warning("signaling: an adopted call could not be restored: Redis is unavailable")
    except Exception:
        logger.exception("signaling: an adopted call could not be restored")
    return hub.registry_address


async def _restore(registry: CallRegistry, call_id: str, record: dict[str, Any]) -> None:
    from signaling.calls import Call

    hub = registry.hub
    caller_id, callee_id = int(record["caller_id"]), int(record["callee_id"])
    answered_at = record.get("answered_at")
    call = Call(
        call_id=call_id,
        caller_id=caller_id,
        caller_email="",
        caller_device=record["caller_device"],
        caller_addr=record["caller_addr"],
        callee_id=callee_id,
        callee_email="",
        started_at=datetime.fromisoformat(record["started_at"]),
        answered_addr=record.get("answered_addr"),
        answered_device=record.get("answered_device"),
        answered_at=datetime.fromisoformat(answered_at) if answered_at else None,
    )
    registry.calls[call_id] = call  # frames arriving meanwhile find it (and wait for nothing)
    # The dead home may not have written its queued call-log rows: both writes are idempotent.
    hub.log(call_log.log_call_started, call_id, caller_id, callee_id, call.started_at)
    if call.answered_at is not None:
        hub.log(call_log.log_call_answered, call_id, caller_id, callee_id, call.answered_at)
    try:
        emails = await database_sync_to_async(_emails)([caller_id, callee_id])
        call.caller_email, call.callee_email = emails[caller_id], emails[callee_id]
        live = await hub.store.live_devices([caller_id, callee_id], liveness_s())
    except Exception:
        await registry._send(registry._end(call, "unknown_error", missed=False, notify=[]))
        raise
    attached: list[str] = []
    now_caller = live[caller_id].get(call.caller_device)
    if call.answered_device is not None:
        now_callee = live[callee_id].get(call.answered_device)
        for role, now in (("caller", now_caller), ("callee", now_callee)):
            if now:
                setattr(call, f"{role}_addr" if role == "caller" else "answered_addr", now)
                attached.append(now)
            else:  # not back yet: the reconnect grace, as if its socket had just dropped
                registry._gone(call, {"addr": call.caller_addr if role == "caller" else call.answered_addr})
    else:
        call.ringing = {address: device for device, address in live[callee_id].items()}
        attached.extend(call.ringing)
        if now_caller:
            call.caller_addr = now_caller
            attached.append(now_caller)
        else:
            registry._gone(call, {"addr": call.caller_addr})
        left = clock.seconds("SIGNALING_INVITE_LIFETIME_MS") - (clock.now() - call.started_at).total_seconds()
        call.timer = hub.loop.call_later(max(0.0, left), lambda: registry._spawn(registry._timeout(call)))
    logger.info("signaling: adopted a call whose home process died (%d socket(s) attached)", len(attached))
    for address in attached:
        await hub.control(address, {"type": "signal.home", "call_id": call_id, "home": hub.registry_address})


async def after_beat(registry: CallRegistry, dead: set[str], orphans: dict[str, str], lapsed: bool) -> None:
    """What a beat found: calls of dead homes to adopt, parties of ours on dead processes."""
    hub = registry.hub
    if lapsed:
        await _drop_lost(registry)
    for call in list(registry.calls.values()):
        _notice_dead_parties(registry, call, dead)
    for call_id, home in orphans.items():
        if process_of(home) == process_of(hub.registry_address):
            continue
        await adopt(registry, call_id, home)


def _notice_dead_parties(registry: CallRegistry, call: Call, dead: set[str]) -> None:
    if call.ended:
        return
    for address in list(call.ringing):
        if process_of(address) in dead and address != call.answered_addr:
            call.ringing.pop(address, None)
    for role, address in (("caller", call.caller_addr), ("callee", call.answered_addr)):
        if not address:
            continue
        if process_of(address) in dead:
            if role not in call.grace:
                registry._gone(call, {"addr": address})
                call.dead_roles.add(role)
        elif role in call.dead_roles:  # its process beats again: it was slow, not dead
            call.dead_roles.discard(role)
            handle = call.grace.pop(role, None)
            if handle is not None:
                handle.cancel()


async def _drop_lost(registry: CallRegistry) -> None:
    """This process's stamp had lapsed (a stall, or Redis away): calls another process adopted
    meanwhile are no longer ours. Forget them here without ending them."""
    hub = registry.hub
    call_ids = list(registry.calls)
    if not call_ids:
        return
    homes = await asyncio.gather(*(hub.store.home(call_id) for call_id in call_ids))
    for call_id, home in zip(call_ids, homes, strict=True):
        if home is not None and home != hub.registry_address:
            _let_go_of(registry, call_id)
            logger.warning("signaling: a call held here was adopted by another process while this one stalled")


def let_go(registry: CallRegistry) -> None:
    """Shutting down: forget every call held here without ending it; other processes adopt them."""
    for call_id in list(registry.calls):
        _let_go_of(registry, call_id)


def _let_go_of(registry: CallRegistry, call_id: str) -> None:
    call = registry.calls.pop(call_id, None)
    if call is not None:
        call.ended = True
        for handle in (call.timer, *call.grace.values()):
            if handle is not None:
                handle.cancel()
