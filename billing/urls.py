"""Billing URLs: pricing, the dashboard's billing page, Stripe's webhook (and, with the fake, its hosted pages)."""

from __future__ import annotations

from django.conf import settings
from django.urls import include, path

from billing import views

urlpatterns = [
    path("pricing/", views.pricing, name="pricing"),
    path("dashboard/billing/", views.billing_page, name="billing"),
    path("dashboard/billing/checkout/", views.checkout, name="billing-checkout"),
    path("dashboard/billing/status/", views.plan_status, name="billing-status"),
    path("dashboard/billing/portal/", views.portal, name="billing-portal"),
    path("webhooks/stripe/", views.stripe_webhook, name="stripe-webhook"),
]

if settings.STRIPE_FAKE:  # never in production: DEBUG=0 refuses to start without Stripe keys
    urlpatterns.append(path("_fake/stripe/", include("billing.fake_stripe.urls")))
