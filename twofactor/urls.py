"""URLs of two-factor sign-in: the login's code step and the account's two-factor page."""

from __future__ import annotations

from django.urls import path

from twofactor import views

urlpatterns = [
    path("login/two-factor/", views.login_code, name="login-two-factor"),
    path("account/two-factor/", views.two_factor, name="two-factor"),
    path("account/two-factor/disable/", views.disable, name="two-factor-disable"),
    path("account/two-factor/recovery-codes/", views.recovery_codes, name="two-factor-recovery-codes"),
]
