"""The fake Stripe's hosted pages (only mounted when settings.STRIPE_FAKE)."""

from __future__ import annotations

from django.urls import path

from billing.fake_stripe import views

urlpatterns = [
    path("checkout/<str:session_id>/", views.checkout_page, name="fake-stripe-checkout"),
    path("portal/<str:session_id>/", views.portal_page, name="fake-stripe-portal"),
]
