"""Staff access audit: who opened which user's personal data in the admin, and when."""

from __future__ import annotations

from django.apps import apps
from django.http import HttpRequest
from django.urls import Resolver404, resolve

from privacy.models import StaffAccess
from privacy.registry import declaration_for

# Admin pages that show one object's data.
_OBJECT_VIEWS = {"change": "change page", "history": "history", "delete": "delete page"}


def subject_of(model: type, object_id: str) -> object | None:
    """The user whose personal data this admin object is, through the app's declaration."""
    declaration = declaration_for(model)
    if declaration is None or not declaration.personal or not declaration.user_field:
        return None
    try:
        row = model._default_manager.filter(pk=object_id).values_list(declaration.user_field, flat=True).first()
    except (ValueError, TypeError):
        return None
    if row is None:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model()._default_manager.filter(pk=row).first()


def record_admin_access(request: HttpRequest) -> StaffAccess | None:
    if request.method != "GET" or not request.path.startswith("/admin/"):
        return None
    staff = getattr(request, "user", None)
    if not getattr(staff, "is_staff", False):
        return None
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if match.namespace != "admin" or "object_id" not in match.kwargs:
        return None
    url_name = match.url_name or ""
    view = url_name.rsplit("_", 1)[-1]
    if view not in _OBJECT_VIEWS:
        return None
    model = _model_for(url_name.removesuffix("_" + view))
    if model is None:
        return None
    subject = subject_of(model, match.kwargs["object_id"])
    if subject is None:
        return None
    return StaffAccess.objects.create(
        staff=staff,
        staff_label=staff.get_username(),
        subject=subject,
        what=f"{model._meta.verbose_name.capitalize()} #{match.kwargs['object_id']} ({_OBJECT_VIEWS[view]})",
    )


def _model_for(app_and_model: str) -> type | None:
    for model in apps.get_models():
        if f"{model._meta.app_label}_{model._meta.model_name}" == app_and_model:
            return model
    return None
