"""The call, message and voicemail logs: pages, exports, voicemail audio."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from numfree.middleware import error_response
from numfree.ratelimits import enforce_user
from telephony import log_params, logs, numbers
from telephony.models import Voicemail
from telephony.voicemail import delete_voicemail


def owned_voicemail(user: object, pk: int) -> Voicemail:
    """The one ownership check for voicemail: someone else's is a 404."""
    return get_object_or_404(Voicemail, pk=pk, user=user)


def _log_page(request: HttpRequest, kind: logs.LogKind) -> HttpResponse:
    try:
        filters = logs.Filters.from_query(kind, request.GET)
        after = log_params.read_cursor(request.GET, "after")
    except log_params.InvalidLogQuery as exc:
        return error_response(request, 400, "invalid", str(exc))
    rows = logs.filtered(kind, request.user, filters)
    export = request.GET.get("export", "")
    if export in {"csv", "json"}:
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        if export == "csv":
            response = StreamingHttpResponse(logs.export_csv(kind, rows), content_type="text/csv; charset=utf-8")
        else:
            response = StreamingHttpResponse(logs.export_json(kind, rows), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="numfree-{kind.name}-{stamp}.{export}"'
        response["Cache-Control"] = "private, no-store"
        return response
    items, next_cursor = logs.page(kind, rows, after)
    query = filters.as_query()
    context = {
        "kind": kind,
        "items": items,
        "filters": filters,
        "query": urlencode(query),
        "next_query": urlencode({**query, "after": next_cursor}) if next_cursor else "",
        "number": numbers.current_number(request.user),
        "chart": logs.activity_svg(logs.activity(request.user)) if kind is logs.CALLS else None,
    }
    return render(request, f"telephony/{kind.name}.html", context)


@login_required
def calls(request: HttpRequest) -> HttpResponse:
    return _log_page(request, logs.CALLS)


@login_required
def messages_log(request: HttpRequest) -> HttpResponse:
    return _log_page(request, logs.MESSAGES)


@login_required
def voicemail_list(request: HttpRequest) -> HttpResponse:
    return _log_page(request, logs.VOICEMAIL)


@login_required
def voicemail_audio(request: HttpRequest, pk: int) -> HttpResponse:
    voicemail = owned_voicemail(request.user, pk)
    if not voicemail.audio:
        raise Http404("The audio is still on its way.")
    response = FileResponse(voicemail.audio.open("rb"), content_type="audio/mpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def voicemail_heard(request: HttpRequest, pk: int) -> HttpResponse:
    voicemail = owned_voicemail(request.user, pk)
    Voicemail.objects.filter(pk=voicemail.pk).update(heard=request.POST.get("heard", "1") == "1")
    return redirect("telephony:voicemail-list")


@login_required
@require_POST
def voicemail_delete(request: HttpRequest, pk: int) -> HttpResponse:
    voicemail = owned_voicemail(request.user, pk)
    enforce_user(request, "voicemail_delete_account", request.user.pk)  # queues its deletion at Twilio
    delete_voicemail(voicemail)
    messages.success(request, "Voicemail deleted.")
    return redirect("telephony:voicemail-list")
