"""Policy pages and the privacy center: access, correct, export, delete, object."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from numfree.ratelimits import enforce_user
from privacy import erasure, exports, notices, overview, subject_requests, usage
from privacy.forms import DeleteAccountForm, NameForm, ObjectionForm, SupportRequestForm
from privacy.models import DataSubjectRequest, ExportArchive, StaffAccess
from privacy.policy import policy_context


@require_GET
def policy(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/policy.html", policy_context())


@require_GET
def extension(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/extension.html", policy_context())


@login_required
@require_GET
def center(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "sections": overview.overview(user),
        "staff_access": StaffAccess.objects.filter(subject=user)[:50],
        "name_form": NameForm(initial={"name": user.name}),
        "support_form": SupportRequestForm(),
        "analytics_off": usage.has_objected(user),
        "archives": ExportArchive.objects.filter(user=user)[:5],
        "requests": [
            (request, subject_requests.WHAT[request.kind])
            for request in DataSubjectRequest.objects.filter(user=user).order_by("-received_at", "-pk")[:20]
        ],
    }
    return render(request, "privacy/center.html", context)


@login_required
@require_POST
def correct_name(request: HttpRequest) -> HttpResponse:
    form = NameForm(request.POST)
    if form.is_valid():
        request.user.name = form.cleaned_data["name"]
        request.user.save(update_fields=["name"])
        messages.success(request, "Your name is saved.")
    else:
        messages.error(request, "That name is too long (150 characters at most).")
    return redirect("privacy:center")


@login_required
@require_POST
def support_request(request: HttpRequest) -> HttpResponse:
    form = SupportRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Tell us what you would like us to do (4,000 characters at most).")
        return redirect("privacy:center")
    enforce_user(request, "privacy_request", request.user.pk)
    subject_requests.record_from_center(request.user, form.cleaned_data["kind"], form.cleaned_data["details"])
    messages.success(
        request,
        "Your request is recorded and we emailed you a receipt. We answer within one month, usually much sooner.",
    )
    return redirect("privacy:center")


@login_required
@require_POST
def object_to_processing(request: HttpRequest) -> HttpResponse:
    form = ObjectionForm(request.POST)
    if form.is_valid():
        objected = form.cleaned_data["analytics"] == "off"
        usage.record_objection(request.user, objected=objected)
        messages.success(request, "Usage analytics are off for you." if objected else "Usage analytics are on again.")
    return redirect("privacy:center")


@login_required
@require_POST
def export_start(request: HttpRequest) -> HttpResponse:
    enforce_user(request, "privacy_export", request.user.pk)
    archive, queued = exports.request_export(request.user)
    if not queued:
        messages.info(request, "Your export is already being built; it is this one.")
    return redirect("privacy:export", archive_id=archive.pk)


def _own_archive(request: HttpRequest, archive_id: object) -> ExportArchive:
    archive = exports.archive_of(request.user, archive_id)
    if archive is None:
        raise Http404("No such export")
    return archive


@login_required
@require_GET
def export_status(request: HttpRequest, archive_id: str) -> HttpResponse:
    archive = _own_archive(request, archive_id)
    return render(
        request, "privacy/export.html", {"archive": archive, "downloadable": exports.is_downloadable(archive)}
    )


@login_required
@require_GET
def export_download(request: HttpRequest, archive_id: str) -> HttpResponse:
    archive = _own_archive(request, archive_id)
    if not exports.is_downloadable(archive) or not default_storage.exists(archive.file_name):
        raise Http404("This export is not ready or has expired")
    response = FileResponse(
        default_storage.open(archive.file_name, "rb"),
        as_attachment=True,
        filename=f"numfree-data-{archive.created_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # Each try checks the password and may queue the erasure.
        enforce_user(request, "account_deletion", request.user.pk)
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        erasure.request_deletion(request.user)
        logout(request)
        return render(request, "privacy/deleted.html")
    return render(request, "privacy/delete.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def dismiss_notice(request: HttpRequest) -> HttpResponse:
    notices.dismiss(request.user)
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure() or not settings.DEBUG
    )
    return redirect(target if safe else "landing")
