"""Support staff see what the outbox is doing (kinds, due times, attempts, failures), never a payload."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from numfree.outbox.models import Job

_FIELDS = (
    "kind",
    "state",
    "reference",
    "created_at",
    "run_at",
    "attempts",
    "locked_until",
    "locked_by",
    "last_error",
    "expires_at",
    "failed_at",
)


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("pending", "pending"), ("failed", "failed")]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        if self.value() == "pending":
            return queryset.pending()
        if self.value() == "failed":
            return queryset.failed()
        return queryset


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "state", "reference", "run_at", "attempts", "last_error", "failed_at")
    list_filter = (StateFilter, "kind")
    search_fields = ("kind", "=reference")
    ordering = ("run_at", "id")
    fields = _FIELDS
    readonly_fields = _FIELDS

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        # The encrypted payload and the dedupe key are never even loaded.
        return super().get_queryset(request).defer("payload", "dedupe_key")

    @admin.display(description="state")
    def state(self, job: Job) -> str:
        return job.state

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False
