"""Keeping the garbage collector's full passes short: thousands of open sockets, and Django itself.

Every open socket keeps a few hundred objects alive (server protocol, consumer,
buffers). CPython's full collection walks all of them: at 5,000 sockets one
pass took 440-830 ms on this hardware, a stall every socket sees. Objects that
have lived through a collection window are moved out of the collector's reach
(`gc.freeze()`, at most every FREEZE_EVERY_S), so a pass only walks what is
recent. Before each freeze a collection over the not-yet-frozen objects (the
last second's: a few ms) frees their garbage cycles. Reference counting still
frees frozen objects; only cyclic garbage among them waits for the hourly full
pass (`gc.unfreeze()` + collect). HTTP requests keep it going too (numfree/http_handler.py):
a web process serving only webhooks, with no socket, ran CPython's default full passes over
Django's whole startup heap, and the webhooks' p99 was 40-55 ms at 200/s instead of 10-17
(bench/webhooks.py). So a closed socket must leave no reference
cycle, or its objects wait up to an hour: the three it used to leave (the
consumer's cancelled mailbox task, autobahn's `is_closed`, daphne's upgraded
request) are gone (signaling/websocket.py, numfree/daphne_tuning.py), and
tests/signaling/test_socket_memory.py counts socket objects by type over
connect/close rounds under the Procfile's daphne with this freeze running.
"""

from __future__ import annotations

import gc
import time

FREEZE_EVERY_S = 1.0
FULL_PASS_EVERY_S = 3600.0

_last_freeze = 0.0
_last_full_pass = time.monotonic()


def freeze_survivors() -> None:
    """Call often (it acts at most every FREEZE_EVERY_S, by real time)."""
    global _last_freeze, _last_full_pass
    now = time.monotonic()
    if now - _last_freeze < FREEZE_EVERY_S:
        return
    _last_freeze = now
    if now - _last_full_pass >= FULL_PASS_EVERY_S:
        _last_full_pass = now
        gc.unfreeze()
    gc.collect()
    gc.freeze()
