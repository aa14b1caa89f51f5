"""The frame limiter by its effect: a client that keeps to the allowed rate is never refused,
even when the server sees its frames up to 4 s late and bunched; one that does not is refused.
Times are plain numbers (a fake clock): nothing here waits."""

from __future__ import annotations

import random

import pytest

from signaling.frame_limiter import ARRIVAL_LAG_S, FrameLimiter
from tests.signaling.conftest import connect

RATE, BURST = 50.0, 200


def paced_sends(seconds: float, *, burst_first: bool) -> list[float]:
    """Send times of a client that opens with its whole burst (or not) and then sends at exactly RATE."""
    times = [0.0] * BURST if burst_first else []
    t = 0.0
    while t < seconds:
        t += 1 / RATE
        times.append(t)
    return times


def seen_by_a_busy_server(sends: list[float], rng: random.Random) -> list[float]:
    """When a lagging server dequeues each frame: in order, each at most ARRIVAL_LAG_S late,
    with stalls of up to the whole lag after which everything waiting comes at once."""
    seen, last = [], 0.0
    stall_until = 0.0
    for sent in sends:
        if rng.random() < 0.01:
            stall_until = sent + rng.uniform(0.5, ARRIVAL_LAG_S)
        at = max(last, sent, min(stall_until, sent + ARRIVAL_LAG_S))
        seen.append(at)
        last = at
    return seen


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("burst_first", [True, False])
def test_a_client_at_exactly_the_allowed_rate_is_never_refused_while_its_frames_wait_up_to_4_s(seed, burst_first):
    rng = random.Random(seed)
    sends = paced_sends(30, burst_first=burst_first)
    seen = seen_by_a_busy_server(sends, rng)
    assert max(s - t for s, t in zip(seen, sends, strict=True)) <= ARRIVAL_LAG_S
    limiter = FrameLimiter(RATE, BURST, now=0.0)
    refused = [at for at in seen if not limiter.admit(at)]
    assert refused == []


def test_the_worst_case_a_burst_then_a_full_4_s_stall_then_everything_at_once():
    sends = paced_sends(10, burst_first=True)
    seen = [max(t, ARRIVAL_LAG_S) if t <= ARRIVAL_LAG_S else t for t in sends]  # the server froze for 4 s
    limiter = FrameLimiter(RATE, BURST, now=0.0)
    assert all(limiter.admit(at) for at in seen)


def test_a_client_faster_than_the_rate_is_refused_and_the_refusals_count_as_strikes():
    limiter = FrameLimiter(RATE, BURST, now=0.0)
    admitted = 0
    for n in range(2000):  # 2,000 frames in 2 s: 1,000/s
        if limiter.admit(n / 1000):
            admitted += 1
    # At most the burst, what the lag allowance lends, and the rate over the 2 s.
    assert admitted <= BURST + RATE * ARRIVAL_LAG_S + RATE * 2 + 1
    assert admitted >= BURST + RATE * ARRIVAL_LAG_S
    assert [limiter.admit(1.999) for _ in range(25)] == [False] * 25  # refused in a row: strikes pile up
    assert limiter.strikes >= 25


def test_over_a_long_span_the_rate_holds_whatever_the_lag_allowance():
    limiter = FrameLimiter(RATE, BURST, now=0.0)
    admitted = sum(limiter.admit(n / 1000) for n in range(60_000))  # 1,000/s for 60 s
    assert admitted <= BURST + RATE * ARRIVAL_LAG_S + RATE * 60 + 1


def test_without_a_lag_allowance_it_is_the_plain_token_bucket():
    limiter = FrameLimiter(1.0, 5, now=0.0, lag=0.0)
    assert [limiter.admit(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert limiter.admit(1.0) is True and limiter.admit(1.0) is False


def test_invalid_frames_cost_more():
    limiter = FrameLimiter(1.0, 10, now=0.0, lag=0.0)
    assert limiter.admit(0.0)
    limiter.charge(4, 0.0)
    assert sum(limiter.admit(0.0) for _ in range(10)) == 5


@pytest.mark.django_db(transaction=True)
async def test_on_a_socket_frames_at_the_rate_pass_and_a_flood_is_refused(settings, alice):
    settings.SIGNALING_RATE_BURST = 3
    settings.SIGNALING_RATE_PER_SECOND = 1
    client = await connect(alice)  # the auth frame took one
    # A lag allowance of 4 s at 1 frame/s lends 4 more: 2 + 4 frames sent at once all pass.
    for n in range(6):
        await client.send({"type": "ping", "id": str(n)})
    answers = [await client.recv_any() for _ in range(6)]
    assert [a["type"] for a in answers] == ["pong"] * 6
    await client.send({"type": "ping"})
    assert (await client.recv_any())["code"] == "rate_limited"
    await client.close()


def test_the_socket_limiter_reads_its_settings(settings):
    settings.SIGNALING_RATE_BURST = 7
    settings.SIGNALING_RATE_PER_SECOND = 2
    limiter = FrameLimiter(float(settings.SIGNALING_RATE_PER_SECOND), float(settings.SIGNALING_RATE_BURST), 0.0)
    assert sum(limiter.admit(0.0) for _ in range(100)) == 7 + 2 * int(ARRIVAL_LAG_S)
