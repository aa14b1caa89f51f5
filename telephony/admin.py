"""Admin for support staff: a user's number and call and text metadata, read-only.

Searchable by any spelling of a phone number (normalised to E.164). Every page
that shows these rows is audited like any admin page (privacy/audit.py). No
admin shows what a text said: NumFree never has it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from numfree.read_only_admin import ReadOnlyAdmin
from telephony.models import CallLog, PhoneNumber, SmsLog
from telephony.support_search import canonical_e164


class NumberSearch:
    """Search on phone-number fields by the canonical E.164 of whatever was typed."""

    number_fields: tuple[str, ...] = ()

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        e164 = canonical_e164(search_term)
        if e164:
            from django.db.models import Q

            match = Q()
            for name in self.number_fields:
                match |= Q(**{name: e164})
            return queryset.filter(match), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


@admin.register(PhoneNumber)
class PhoneNumberAdmin(NumberSearch, ReadOnlyAdmin):
    list_display = ("e164", "user", "country", "bought_at")
    search_fields = ("e164", "user__email")
    number_fields = ("e164",)
    list_select_related = ("user",)
    fields = ("e164", "user", "country", "twilio_sid", "bought_at")


@admin.register(CallLog)
class CallLogAdmin(NumberSearch, ReadOnlyAdmin):
    list_display = ("started_at", "user", "kind", "direction", "peer_number", "status", "missed", "duration_s")
    list_filter = ("kind", "direction", "missed", "blocked")
    search_fields = ("peer_number", "user__email")
    number_fields = ("peer_number",)
    list_select_related = ("user",)
    date_hierarchy = "started_at"
    fields = (
        "user",
        "kind",
        "direction",
        "peer_number",
        "peer_user",
        "status",
        "started_at",
        "answered_at",
        "ended_at",
        "duration_s",
        "end_reason",
        "missed",
        "blocked",
        "external_id",
    )


@admin.register(SmsLog)
class SmsLogAdmin(NumberSearch, ReadOnlyAdmin):
    list_display = ("created_at", "user", "direction", "peer_number", "our_number", "status", "segments")
    list_filter = ("direction", "status", "blocked", "dropped")
    search_fields = ("peer_number", "our_number", "user__email")
    number_fields = ("peer_number", "our_number")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = (
        "user",
        "direction",
        "peer_number",
        "our_number",
        "status",
        "created_at",
        "segments",
        "media_count",
        "blocked",
        "dropped",
        "forwarded_at",
        "deleted_at_twilio",
        "message_sid",
    )
