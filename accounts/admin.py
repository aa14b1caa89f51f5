"""Admin for support staff: find users by email; the Support group may only view them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.forms import AdminLoginForm, UserAdminChangeForm, UserAdminCreationForm, UserAdminPasswordForm
from accounts.models import SignIn, User
from accounts.sign_ins import revoke_all

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
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "email_verified", "pending_email")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "usable_password", "password1", "password2")}),
    )

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # A disabled account's API sign-ins end and its sockets close (4403).
            revoke_all(obj, SignIn.REVOKED_DISABLED)
