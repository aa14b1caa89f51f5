"""Admin for support staff: find users by email or phone number, see their number, plan and logs;
the Support group may only view them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from accounts.forms import AdminLoginForm, UserAdminChangeForm, UserAdminCreationForm, UserAdminPasswordForm
from accounts.models import SignIn, User
from accounts.sign_ins import revoke_all
from telephony.support_search import canonical_e164, holders_of

# The admin's login counts attempts like the site's login page.
admin.site.login_form = AdminLoginForm
admin.site.site_header = "NumFree administration"
admin.site.site_title = "NumFree admin"


def _password_change_on_account_page(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    # Staff change their own password on the account page like everyone else,
    # so their other sessions and API sign-ins end (the admin's own view
    # would leave the sign-ins alive).
    return redirect("password-change")


admin.site.password_change = _password_change_on_account_page  # type: ignore[method-assign]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    change_password_form = UserAdminPasswordForm
    list_display = ("email", "name", "email_verified", "is_active", "date_joined")
    list_filter = ("email_verified", "is_active", "is_staff", "groups")
    search_fields = ("email",)
    ordering = ("-date_joined",)
    readonly_fields = ("last_login", "date_joined", "numfree_number", "plan", "logs")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("NumFree", {"fields": ("numfree_number", "plan", "logs")}),
        ("Profile", {"fields": ("name", "email_verified", "pending_email")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "usable_password", "password1", "password2")}),
    )

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> tuple[Any, bool]:
        """An email, or a phone number in any spelling: the account's NumFree number or forwarding phone."""
        e164 = canonical_e164(search_term)
        if e164:
            return queryset.filter(holders_of(e164)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="NumFree number")
    def numfree_number(self, obj: User) -> str:
        numbers = ", ".join(obj.phone_numbers.values_list("e164", flat=True)) if obj.pk else ""
        forwarding = getattr(obj, "forwarding", None) if obj.pk else None
        phone = forwarding.ring_phone() if forwarding else ""
        return (numbers or "none") + (f"; calls ring {phone}" if phone else "")

    @admin.display(description="plan")
    def plan(self, obj: User) -> str:
        billing = getattr(obj, "billing", None) if obj.pk else None
        if billing is None or not billing.status:
            return "no plan"
        ends = f", period ends {billing.current_period_end:%Y-%m-%d}" if billing.current_period_end else ""
        return f"{billing.plan or '?'}: {billing.status}{ends}" + (
            " (cancels then)" if billing.cancel_at_period_end else ""
        )

    @admin.display(description="logs (metadata)")
    def logs(self, obj: User) -> str:
        if not obj.pk:
            return ""
        return format_html(
            '<a href="{}?user__id__exact={}">Calls</a> · <a href="{}?user__id__exact={}">Texts</a>',
            reverse("admin:telephony_calllog_changelist"),
            obj.pk,
            reverse("admin:telephony_smslog_changelist"),
            obj.pk,
        )

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # A disabled account's API sign-ins end and its sockets close (4403).
            revoke_all(obj, SignIn.REVOKED_DISABLED)
