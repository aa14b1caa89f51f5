"""django.contrib.admin with its default site replaced by one that requires two-factor sign-in.

Listed in INSTALLED_APPS instead of "django.contrib.admin" (Django's documented
way to override the default admin site); the app label stays "admin".
"""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class TwoFactorAdminConfig(AdminConfig):
    default_site = "twofactor.admin_site.TwoFactorAdminSite"
