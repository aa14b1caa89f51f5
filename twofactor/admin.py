"""Admin: which accounts have two-factor sign-in on; a superuser can turn it off for a locked-out owner."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from twofactor import enrolment
from twofactor.models import Authenticator


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = ("user", "confirmed_at", "created_at")
    list_filter = ("confirmed_at",)
    search_fields = ("user__email",)
    fields = ("user", "confirmed_at", "created_at")  # never the sealed secret or the counters
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Authenticator | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Authenticator | None = None) -> bool:
        return request.user.is_superuser

    def delete_model(self, request: HttpRequest, obj: Authenticator) -> None:
        enrolment.disable(obj.user)  # recovery codes go too, and the owner is told

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Authenticator]) -> None:
        for authenticator in queryset.select_related("user"):
            enrolment.disable(authenticator.user)
