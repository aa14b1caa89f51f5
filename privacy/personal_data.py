"""Personal data declarations for privacy's own models and for the contrib and third-party apps we install."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from privacy import export_schema
from privacy.models import (
    DataSubjectRequest,
    ExportArchive,
    Objection,
    PageView,
    PolicyNoticeDismissal,
    StaffAccess,
)
from privacy.registry import AppPersonalData, ExportPart, holds, no_personal_data, register
from privacy.sessions import sessions_of

if TYPE_CHECKING:
    from accounts.models import User


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


# --- privacy -------------------------------------------------------------


def export_privacy(user: User) -> ExportPart:
    page_views = [
        {"path": v.path, "browser": v.browser, "ip": v.ip, "viewed_at": _when(v.viewed_at)}
        for v in PageView.objects.filter(user=user).order_by("viewed_at")
    ]
    objections = [
        {"kind": o.kind, "objected": o.objected, "recorded_at": _when(o.recorded_at)}
        for o in Objection.objects.filter(user=user).order_by("recorded_at")
    ]
    staff_access = [
        {"staff": a.staff_label, "what": a.what, "accessed_at": _when(a.accessed_at)}
        for a in StaffAccess.objects.filter(subject=user).order_by("accessed_at")
    ]
    requests = [
        {
            "kind": r.kind,
            "status": r.status,
            "received_at": _when(r.received_at),
            "due_at": _when(r.deadline),
            "fulfilled_at": _when(r.fulfilled_at),
        }
        for r in DataSubjectRequest.objects.filter(user=user).order_by("received_at")
    ]
    dismissed = [
        {"version": d.version.version, "dismissed_at": _when(d.dismissed_at)}
        for d in PolicyNoticeDismissal.objects.filter(user=user).select_related("version")
    ]
    return ExportPart(
        category="usage",
        data={
            "page_views": page_views,
            "objections": objections,
            "staff_access": staff_access,
            "privacy_requests": requests,
            "policy_notices_dismissed": dismissed,
        },
        schema=export_schema.PRIVACY,
        summary=[
            f"{len(page_views)} page views (address, browser family, page, time)",
            f"{len(staff_access)} times NumFree staff opened your data",
            f"{len(requests)} privacy requests",
        ],
    )


def erase_privacy(user: User) -> None:
    from privacy import exports

    PageView.objects.filter(user=user).delete()
    Objection.objects.filter(user=user).delete()
    PolicyNoticeDismissal.objects.filter(user=user).delete()
    StaffAccess.objects.filter(subject=user).delete()
    StaffAccess.objects.filter(staff=user).update(staff=None, staff_label="deleted staff member")
    for archive in ExportArchive.objects.filter(user=user):
        exports.delete_archive(archive)
    # Requests are scrubbed, not deleted: the record that they were fulfilled stays (privacy.erasure).


def purge_privacy(cutoff: Any, dry_run: bool) -> dict[str, int]:
    from privacy.retention import delete_in_batches

    return {
        "page views": delete_in_batches(
            PageView.objects.filter(viewed_at__lt=cutoff).order_by("viewed_at"), dry_run=dry_run
        )
    }


register(
    AppPersonalData(
        app_label="privacy",
        category="usage",
        models={
            "PolicyVersion": no_personal_data("the policy's versions and dates"),
            "PolicyNoticeDismissal": holds("user", user_field="user"),
            "Objection": holds("user", user_field="user"),
            "PageView": holds("user", "ip", user_field="user"),
            "StaffAccess": holds("user", user_field="subject"),
            "DataSubjectRequest": holds("user", "email", user_field="user"),
            "ExportArchive": holds("user", user_field="user"),
            "UserSession": holds("user", user_field="user"),  # exported and erased as "sessions" below
        },
        export=export_privacy,
        erase=erase_privacy,
        purge_older_than=purge_privacy,
        erase_order=90,
    )
)


# --- django.contrib.admin: staff actions, whose descriptions can name a user ---


def _about_user(user: User) -> Q:
    user_type = ContentType.objects.get_for_model(type(user))
    return (
        Q(user=user)
        | Q(content_type=user_type, object_id=str(user.pk))
        | Q(object_repr__icontains=user.email)
        | Q(change_message__icontains=user.email)
    )


def export_admin(user: User) -> ExportPart:
    actions = [
        {"action_time": _when(e.action_time), "what": str(e.content_type), "action": e.get_action_flag_display()}
        for e in LogEntry.objects.filter(user=user).select_related("content_type")
    ]
    return ExportPart(category="other", data={"admin_actions": actions}, schema=export_schema.ADMIN)


def erase_admin(user: User) -> None:
    LogEntry.objects.filter(_about_user(user)).delete()


register(
    AppPersonalData(
        app_label="admin",
        category="other",
        models={"LogEntry": holds("user", "email", user_field="user")},
        export=export_admin,
        erase=erase_admin,
    )
)
register(
    AppPersonalData(
        app_label="auth",
        category="account",
        models={
            "Permission": no_personal_data("the list of permissions"),
            "Group": no_personal_data("staff groups; membership is on accounts.User"),
        },
    )
)
register(
    AppPersonalData(
        app_label="contenttypes",
        category="other",
        models={"ContentType": no_personal_data("the list of installed models")},
    )
)


# --- sessions: the session cookie's server side (privacy.sessions) --------


def export_sessions(user: User) -> ExportPart:
    sessions = [{"expires_at": _when(expiry)} for expiry in sessions_of(user).values_list("expire_date", flat=True)]
    return ExportPart(
        category="cookies",
        data={"sessions": sessions},
        schema=export_schema.SESSIONS,
        summary=[
            f"{len(sessions)} signed-in browser sessions (the sessionid cookie); the csrftoken cookie holds no data about you"
        ],
    )


def erase_sessions(user: User) -> None:
    sessions_of(user).delete()


register(
    AppPersonalData(
        app_label="sessions",
        category="cookies",
        models={
            "Session": no_personal_data(
                "unused: SESSION_ENGINE is privacy.sessions, whose privacy.UserSession rows name their account "
                "(migration privacy 0005 moved the rows)"
            )
        },
        export=export_sessions,
        erase=erase_sessions,
    )
)


# --- simplejwt's token blacklist: the API refresh tokens issued -----------


def export_tokens(user: User) -> ExportPart:
    tokens = [
        {
            "created_at": _when(t.created_at),
            "expires_at": _when(t.expires_at),
            "revoked": hasattr(t, "blacklistedtoken"),
        }
        for t in OutstandingToken.objects.filter(user=user).select_related("blacklistedtoken")
    ]
    return ExportPart(
        category="account",
        data={"refresh_tokens": tokens},
        schema=export_schema.TOKENS,
        summary=[f"{len(tokens)} extension refresh tokens issued (the tokens themselves are not exported)"],
    )


def erase_tokens(user: User) -> None:
    OutstandingToken.objects.filter(user=user).delete()  # their blacklist rows go with them


register(
    AppPersonalData(
        app_label="token_blacklist",
        category="account",
        models={
            "OutstandingToken": holds("user", user_field="user"),
            "BlacklistedToken": holds("user", user_field="token__user"),
        },
        export=export_tokens,
        erase=erase_tokens,
    )
)
