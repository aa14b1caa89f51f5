"""Top-level URLs: each app owns its own urls.py; the public contract is in README.md."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from numfree import views
from numfree.websocket import OriginCheckView

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/signaling/origin-check/", OriginCheckView.as_view(), name="api-origin-check"),
    path("", include("accounts.urls")),
    path("", include("twofactor.urls")),
    path("", include("telephony.urls")),
    path("", include("billing.urls")),
    path("", include("signaling.urls")),
    path("", include("privacy.urls")),
]

handler400 = "numfree.views.bad_request"
handler403 = "numfree.views.permission_denied"
handler404 = "numfree.views.page_not_found"
handler500 = "numfree.views.server_error"
