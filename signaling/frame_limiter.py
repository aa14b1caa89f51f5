"""Per-socket frame rate limit, defined by what a client sees, not by when the server got round to a frame.

A client may send `burst` frames at once and then `rate` frames per second. The
server only sees a frame when it dequeues it (ASGI hands frames over then; a
frame that waited in the kernel's buffer while the event loop was busy carries
no arrival time at all), so a server that lags sees a well-paced client's
frames bunched together. The promise is by effect: a client whose frames keep
to (rate, burst) by the time it sent them is never refused while each of its
frames waits at most `lag` seconds (ARRIVAL_LAG_S, 4 s) in the server.

The limiter is the generic cell rate algorithm (a token bucket written as a
theoretical arrival time, `due`) with its tolerance widened by `lag`:
a frame seen at `now` is admitted when `now >= due - burst/rate - lag`, and
then `due = max(now, due) + cost/rate`. Why that keeps the promise: for the
same frames stamped with their send times, `due` there is never more than
`lag` earlier than `due` here (induction on `max`, every frame being seen at
most `lag` after it was sent), so a frame admitted by send time is admitted
here. The price is that a client which does not pace itself can put
`burst + rate * lag` frames in at once (with the defaults 200 + 200) before the
first refusal; over any longer span it still gets only `rate` frames per second.
"""

from __future__ import annotations

ARRIVAL_LAG_S = 4.0


class FrameLimiter:
    __slots__ = ("due", "rate", "strikes", "tolerance")

    def __init__(self, rate: float, burst: float, now: float, lag: float = ARRIVAL_LAG_S) -> None:
        self.rate = rate
        self.tolerance = burst / rate + lag
        self.due = now  # nothing sent yet: the whole burst is available
        self.strikes = 0  # refused frames in a row

    def admit(self, now: float, cost: float = 1.0) -> bool:
        """Count a frame seen at `now` (monotonic seconds); False when it is over the limit."""
        if now < self.due - self.tolerance + 1 / self.rate:
            self.strikes += 1
            return False
        self.due = max(now, self.due) + cost / self.rate
        self.strikes = 0
        return True

    def charge(self, cost: float, now: float) -> None:
        """An extra cost for a frame already admitted (an invalid frame costs more)."""
        self.due = max(now, self.due) + cost / self.rate
