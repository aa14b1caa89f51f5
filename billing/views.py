"""Billing pages (pricing, the dashboard's billing page) and Stripe's webhook. Thin: logic is in billing/*.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.home import step_after_plan
from billing import stripe_api
from billing.stripe_events import apply_event
from billing.subscriptions import BillingError, account_for, open_portal, start_checkout
from numfree.errors import error_body
from numfree.middleware import error_response
from numfree.ratelimits import enforce_user


def _plans() -> list[dict[str, str]]:
    return [{"key": key, "label": plan["label"]} for key, plan in settings.BILLING_PLANS.items()]


def _stripe_down(request: HttpRequest) -> HttpResponse:
    response = error_response(request, 503, "service_unavailable", "Stripe did not answer; try again in a moment.")
    response["Retry-After"] = "30"
    return response


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    account = account_for(request.user) if request.user.is_authenticated else None
    return render(request, "billing/pricing.html", {"plans": _plans(), "account": account})


@login_required
@require_GET
def billing_page(request: HttpRequest) -> HttpResponse:
    account = account_for(request.user)
    context = {
        "plans": _plans(),
        "account": account,
        "has_service": bool(account and account.has_service()),
        "returning_from_checkout": "checkout" in request.GET,
        "next_step": step_after_plan(request.user) if "checkout" in request.GET else None,
        "stripe_fake": settings.STRIPE_FAKE,
    }
    return render(request, "billing/billing.html", context)


@require_GET
def plan_status(request: HttpRequest) -> HttpResponse:
    """What the checkout return page polls (site.js, every 5 s) until the plan is active."""
    if not request.user.is_authenticated:
        return JsonResponse(error_body("not_authenticated", "Log in again."), status=401)
    account = account_for(request.user)
    if account is None or not account.has_service():
        body: dict[str, object] = {
            "done": False,
            "status": account.status if account else "",
            "message": "Stripe is still confirming your payment; this page updates by itself.",
            "next": None,
        }
    else:
        step = step_after_plan(request.user)
        body = {
            "done": True,
            "status": account.status,
            "message": f"Your {account.plan or 'NumFree'} plan is active.",
            "next": {"label": step.action, "url": step.url},
        }
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    enforce_user(request, "billing_checkout_account", request.user.pk)  # each one creates objects at Stripe
    try:
        url = start_checkout(request.user, request.POST.get("plan", ""))
    except BillingError as exc:
        return error_response(request, 400 if exc.code == "plan_unknown" else 409, exc.code, exc.message)
    except stripe_api.StripeUnavailable:
        return _stripe_down(request)
    return HttpResponseRedirect(url)


@login_required
@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    enforce_user(request, "billing_portal_account", request.user.pk)
    try:
        url = open_portal(request.user)
    except BillingError as exc:
        return error_response(request, 409, exc.code, exc.message)
    except stripe_api.StripeUnavailable:
        return _stripe_down(request)
    return HttpResponseRedirect(url)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events: verified on the raw body, applied once, answered fast (emails go through the outbox)."""
    try:
        event = stripe_api.verify_event(request.body, request.headers.get("Stripe-Signature"))
    except stripe_api.SignatureInvalid:
        return JsonResponse(error_body("stripe_signature_invalid"), status=400)
    try:
        applied = apply_event(event)
    except stripe_api.StripeUnavailable:
        # Nothing was committed: Stripe retries the event later.
        response = JsonResponse(error_body("service_unavailable"), status=503)
        response["Retry-After"] = "60"
        return response
    return JsonResponse({"received": True, "duplicate": not applied})
