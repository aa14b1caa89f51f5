"""Privacy URLs: the policy pages and the privacy center."""

from __future__ import annotations

from django.urls import path

from privacy import views

app_name = "privacy"
urlpatterns = [
    path("privacy/", views.policy, name="policy"),
    path("privacy/extension/", views.extension, name="extension"),
    path("privacy/center/", views.center, name="center"),
    path("privacy/center/name/", views.correct_name, name="correct-name"),
    path("privacy/center/request/", views.support_request, name="support-request"),
    path("privacy/center/object/", views.object_to_processing, name="object"),
    path("privacy/center/export/", views.export_start, name="export-start"),
    path("privacy/center/export/<uuid:archive_id>/", views.export_status, name="export"),
    path("privacy/center/export/<uuid:archive_id>/download/", views.export_download, name="export-download"),
    path("privacy/center/delete/", views.delete_account, name="delete"),
    path("privacy/notice/dismiss/", views.dismiss_notice, name="dismiss-notice"),
]
