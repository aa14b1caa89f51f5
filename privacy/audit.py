"""Staff access audit: who saw which user's personal data in the admin, and when.

Every admin page that shows rows of someone's personal data writes one
`StaffAccess` row per person shown: lists and search results, change,
history and delete pages, the rows in their inlines, the password page and
the bulk-delete confirmation. The rows shown are read from the rendered page's
own context (the change list's page of results, the object, its inline forms),
so any ModelAdmin, including ones added later, is covered without code here.
Whose data a row is comes from the registry's `user_field` declaration.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.http import HttpRequest
from django.template.response import TemplateResponse

from privacy.models import StaffAccess
from privacy.registry import declaration_for

# What kind of admin page it is, by the end of its URL name.
_PAGES = [
    ("_password_change", "password page"),
    ("_changelist", "list"),
    ("_change", "change page"),
    ("_history", "history"),
    ("_delete", "delete page"),
]


def subject_of(model: type, object_id: str) -> object | None:
    """The user whose personal data this admin object is, through the app's declaration."""
    subjects = _subjects(model, [object_id])
    if not subjects:
        return None
    return get_user_model()._default_manager.filter(pk=next(iter(subjects.values()))).first()


def record_admin_access(request: HttpRequest, response: TemplateResponse) -> list[StaffAccess]:
    """After an admin page was built: one row per person whose data it shows."""
    staff = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    if not getattr(staff, "is_staff", False) or match is None or match.namespace != "admin":
        return []
    context = response.context_data or {}
    page = next((label for suffix, label in _PAGES if (match.url_name or "").endswith(suffix)), "page")
    shown: dict[Any, str] = {}  # subject id -> what was seen (the first description wins)
    for model, objects, what in _objects_shown(context, page, bool(request.GET.get("q"))):
        for row_id, subject_id in _subjects(model, [obj.pk for obj in objects]).items():
            shown.setdefault(subject_id, what(row_id))
    if not shown:
        return []
    return StaffAccess.objects.bulk_create(
        StaffAccess(staff=staff, staff_label=staff.get_username(), subject_id=subject_id, what=what[:200])
        for subject_id, what in shown.items()
    )


def _objects_shown(context: dict[str, Any], page: str, searched: bool) -> Iterable[tuple[type, list[Any], Any]]:
    """(model, rows, describe(row id)) for each set of rows the page shows."""
    changelist = context.get("cl")
    if changelist is not None:
        model = changelist.model
        label = f"{_plural(model)} ({'search results' if searched else 'list'})"
        yield model, list(changelist.result_list), lambda _row_id: label
    for key in ("original", "object"):
        obj = context.get(key)
        if isinstance(obj, models.Model):
            model = type(obj)
            yield model, [obj], lambda row_id, model=model: f"{_name(model)} #{row_id} ({page})"
            break
    for inline in context.get("inline_admin_formsets") or []:
        formset = inline.formset
        model = formset.model
        rows = [form.instance for form in formset.initial_forms]
        yield model, rows, lambda row_id, model=model: f"{_name(model)} #{row_id} (shown on a {page})"
    queryset = context.get("queryset")  # the delete_selected action's confirmation
    if isinstance(queryset, models.QuerySet):
        model = queryset.model
        yield model, list(queryset), lambda row_id, model=model: f"{_name(model)} #{row_id} (bulk delete page)"


def _subjects(model: type, row_ids: list[Any]) -> dict[Any, Any]:
    """Row id -> the id of the user it is about, for rows the registry declares personal."""
    declaration = declaration_for(model)
    if declaration is None or not declaration.personal or not declaration.user_field or not row_ids:
        return {}
    try:
        pairs = model._default_manager.filter(pk__in=row_ids).values_list("pk", declaration.user_field)
        return {row_id: subject_id for row_id, subject_id in pairs if subject_id is not None}
    except (ValueError, TypeError):
        return {}


def _name(model: type) -> str:
    return str(model._meta.verbose_name).capitalize()


def _plural(model: type) -> str:
    return str(model._meta.verbose_name_plural).capitalize()
