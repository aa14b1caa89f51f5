"""Signaling URLs: the contacts API, ICE servers and the contacts dashboard page."""

from __future__ import annotations

from django.urls import path

from signaling import api, views

urlpatterns = [
    path("api/contacts/", api.ContactListView.as_view(), name="api-contacts"),
    path("api/contacts/<str:contact_id>/", api.ContactDetailView.as_view(), name="api-contact"),
    path("api/contacts/<str:contact_id>/accept/", api.ContactAcceptView.as_view(), name="api-contact-accept"),
    path("api/contacts/<str:contact_id>/block/", api.ContactBlockView.as_view(), name="api-contact-block"),
    path("api/signaling/ice-servers/", api.IceServersView.as_view(), name="api-ice-servers"),
    path("dashboard/contacts/", views.contact_list, name="contacts"),
    path(
        "dashboard/contacts/<str:contact_id>/<str:action>/",
        views.contact_action,
        name="contact-action",
    ),
]
