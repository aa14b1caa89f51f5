"""Admin: data-subject requests with their deadlines (fulfilled and the requester emailed in one action),
policy versions, the staff access log, visits per day."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from privacy import charts, subject_requests, usage
from privacy.models import DataSubjectRequest, PageView, PolicyVersion, StaffAccess


class DeadlineFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "deadline"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "Overdue"), ("soon", "Due within 7 days")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.open().filter(due_at__lt=now, extended_due_at__isnull=True) | queryset.open().filter(
                extended_due_at__lt=now
            )
        if self.value() == "soon":
            return queryset.due_within(subject_requests.DUE_SOON_DAYS)
        return queryset


class FlaggedFilter(admin.SimpleListFilter):
    title = "flagged to support"
    parameter_name = "flagged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "A deletion at a provider was given up")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.flagged() if self.value() == "yes" else queryset


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "source", "requester", "received_at", "deadline_badge", "status", "providers")
    list_filter = ("status", DeadlineFilter, FlaggedFilter, "kind", "source", "regulation")
    search_fields = ("requester_email", "requester_name")
    readonly_fields = ("requester_email_hmac", "user", "flag_reason", "at_providers")
    fieldsets = [
        (None, {"fields": ("kind", "regulation", "source", "status", "fulfilled_at")}),
        (
            "Requester",
            {"fields": ("user", "requester_name", "requester_email", "requester_email_hmac", "identity_verification")},
        ),
        ("Request", {"fields": ("details",)}),
        ("Deadline", {"fields": ("received_at", "due_at", "extended_due_at", "extension_reason")}),
        ("Deletion at providers", {"fields": ("at_providers", "flagged_at", "flag_reason")}),
    ]

    actions = ["fulfil_and_email"]

    class Media:
        css = {"all": ["privacy/admin.css"]}

    @admin.action(description="Mark fulfilled and email the requester")
    def fulfil_and_email(self, request: HttpRequest, queryset: Any) -> None:
        """One action per request: closed once (a conditional UPDATE), the requester emailed that it is done."""
        closed = [dsr for dsr in queryset.open() if subject_requests.mark_fulfilled(dsr)]
        skipped = queryset.count() - len(closed)
        emailed = sum(1 for dsr in closed if dsr.requester_email and dsr.kind != DataSubjectRequest.DELETION)
        message = f"{len(closed)} request(s) marked fulfilled; {emailed} requester(s) emailed."
        if skipped:
            message += f" {skipped} were not open and were left as they were."
        self.message_user(request, message, messages.SUCCESS if closed else messages.WARNING)

    @admin.display(description="requester")
    def requester(self, obj: DataSubjectRequest) -> str:
        return obj.requester_email or ("deleted account" if obj.requester_email_hmac else "")

    @admin.display(description="at providers")
    def providers(self, obj: DataSubjectRequest) -> str:
        """Short: "Twilio: 3 pending; Stripe: 1 given up", "flagged", or "" when nothing is left."""
        parts = []
        for at in subject_requests.at_providers(obj):
            counts = [f"{at.waiting} pending"] if at.waiting else []
            counts += [f"{at.given_up} given up"] if at.given_up else []
            parts.append(f"{at.provider}: {', '.join(counts)}")
        if obj.flagged_at and not parts:
            parts.append("flagged")
        return "; ".join(parts)

    @admin.display(description="still to delete at providers")
    def at_providers(self, obj: DataSubjectRequest) -> str:
        rows = subject_requests.at_providers(obj)
        if not rows:
            return "nothing pending"
        return format_html_join(
            "",
            "<p>{}: {} pending (next try {}), {} given up{}</p>",
            (
                (
                    at.provider,
                    at.waiting,
                    f"{at.next_try:%Y-%m-%d %H:%M}" if at.next_try else "-",
                    at.given_up,
                    f"; last error: {at.last_error}" if at.last_error else "",
                )
                for at in rows
            ),
        )

    @admin.display(description="due", ordering="due_at")
    def deadline_badge(self, obj: DataSubjectRequest) -> str:
        urgency = subject_requests.urgency(obj)
        label = f"{obj.deadline:%Y-%m-%d}" + (" (extended)" if obj.extended_due_at else "")
        if not urgency:
            return label
        return format_html(
            '<span class="dsr-{}">{}{}</span>', urgency, label, " overdue" if urgency == "overdue" else ""
        )

    def save_model(self, request: HttpRequest, obj: DataSubjectRequest, form: Any, change: bool) -> None:
        if obj.extended_due_at and not obj.extension_reason:
            obj.extension_reason = "(no reason given)"
        if obj.status == DataSubjectRequest.FULFILLED and not obj.fulfilled_at:
            obj.fulfilled_at = timezone.now()
        super().save_model(request, obj, form, change)
        if not change:
            subject_requests.acknowledge(obj)  # a request support typed in (by email, by post) gets its receipt


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "effective_date", "dismissals_count")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).annotate(n=Count("dismissals"))

    @admin.display(description="notices dismissed")
    def dismissals_count(self, obj: PolicyVersion) -> int:
        return obj.n


@admin.register(StaffAccess)
class StaffAccessAdmin(admin.ModelAdmin):
    """The access log: superusers only, read-only."""

    list_display = ("accessed_at", "staff_label", "subject", "what")
    list_filter = ("accessed_at",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PageView)
class PageViewAdmin(admin.ModelAdmin):
    """Staff see aggregates only: visits per day, never individual rows."""

    class Media:
        css = {"all": ["privacy/admin.css"]}

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_staff and obj is None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        days = usage.visits_per_day(30)
        context = {
            **self.admin_site.each_context(request),
            "title": "Visits per day (last 30 days)",
            "opts": self.model._meta,
            "chart": charts.visits_svg(days),
            "total": sum(count for _day, count in days),
            "media": self.media,
        }
        return TemplateResponse(request, "privacy/admin/visits.html", context)
