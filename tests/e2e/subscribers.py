"""Accounts the browser tests start from: a user who has paid for a plan and holds a number
bought at the fake Twilio, as billing and telephony record them after the real flows."""

from __future__ import annotations

from typing import Any

from tests.conftest import make_user


def subscriber_with_a_number(email: str, *, name: str = "", area_code: str = "415") -> tuple[Any, str]:
    """A verified user with an active plan and the first US number found in `area_code`: (user, e164)."""
    from telephony import twilio_api
    from telephony.models import PhoneNumber
    from tests.telephony.conftest import give_plan

    user = make_user(email, name=name)
    give_plan(user)
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", area_code)[0].e164)
    PhoneNumber.objects.create(user=user, e164=bought.e164, twilio_sid=bought.sid, country="US")
    return user, bought.e164
