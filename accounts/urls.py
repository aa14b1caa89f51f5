"""Account URLs: web pages (sign-up, login, ...) and the extension's API."""

from __future__ import annotations

from django.urls import include, path

from accounts import views

urlpatterns = [
    path("api/", include("accounts.api_urls")),
    path("signup/", views.signup, name="signup"),
    path("signup/check-email/", views.signup_sent, name="signup-sent"),
    path("verify-email/<str:token>/", views.verify_email, name="verify-email"),
    path("confirm-email/<str:token>/", views.confirm_email, name="confirm-email"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("account/", views.account, name="account"),
    path("account/time-zone/", views.time_zone, name="account-time-zone"),
    path("account/time-zone/detect/", views.detect_time_zone, name="account-time-zone-detect"),
    path("account/email/", views.change_email, name="change-email"),
    path("account/email/cancel/", views.cancel_email_change, name="cancel-email-change"),
    path("account/resend-verification/", views.resend_verification, name="resend-verification"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", views.PasswordResetSentView.as_view(), name="password-reset-sent"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("reset/done/", views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
]
