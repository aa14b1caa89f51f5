"""The fake's hosted pages: Checkout (a "Pay with test card" button, no card field) and the Customer Portal.

Only the user the session was made for can open it; anyone else gets 404.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from billing.fake_stripe import simulation, store
from billing.subscriptions import account_for


def _session_for(request: HttpRequest, session_id: str, kind: str) -> dict[str, Any]:
    session = store.get(session_id)
    account = account_for(request.user) if request.user.is_authenticated else None
    if session is None or session["object"] != kind or account is None:
        raise Http404
    if session["customer"] != account.stripe_customer_id:
        raise Http404
    return session


@require_http_methods(["GET", "POST"])
def checkout_page(request: HttpRequest, session_id: str) -> HttpResponse:
    session = _session_for(request, session_id, "checkout.session")
    if request.method == "POST" and session["status"] == "open":
        with store.transaction():
            session = simulation.complete_checkout(session_id)
        return HttpResponseRedirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))
    line_items = store.get(f"{session_id}_line_items") or {"data": []}
    price = simulation.price_for(line_items["data"][0]["price"]["id"]) if line_items["data"] else None
    return render(request, "billing/fake_stripe/checkout.html", {"session": session, "price": price})


PORTAL_ACTIONS = {
    "cancel": simulation.cancel_subscription,
    "pay": simulation.pay_open_invoice,
    "renew": simulation.renew,
    "fail": simulation.fail_payment,
}


@require_http_methods(["GET", "POST"])
def portal_page(request: HttpRequest, session_id: str) -> HttpResponse:
    session = _session_for(request, session_id, "billing_portal.session")
    subscriptions = [
        sub
        for sub in store.subscriptions_of(session["customer"])
        if sub["status"] not in ("canceled", "incomplete_expired")
    ]
    if request.method == "POST":
        action = PORTAL_ACTIONS.get(request.POST.get("action", ""))
        subscription_id = request.POST.get("subscription", "")
        if action is None or subscription_id not in {sub["id"] for sub in subscriptions}:
            raise Http404
        try:
            with store.transaction():
                action(subscription_id)
        except ValueError:
            pass  # e.g. nothing to pay: the page shows the unchanged state
        return HttpResponseRedirect(request.path)
    for sub in subscriptions:
        invoice = store.get(sub.get("latest_invoice") or "") or {}
        sub["open_invoice"] = invoice.get("status") == "open"
        sub["plan"] = sub["items"]["data"][0]["price"].get("nickname", "")
    return render(request, "billing/fake_stripe/portal.html", {"session": session, "subscriptions": subscriptions})
