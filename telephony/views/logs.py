"""The call, message and voicemail logs: pages, exports, voicemail audio."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from numfree.middleware import error_response, wants_json
from numfree.ratelimits import enforce_user
from telephony import log_params, logs, numbers
from telephony.models import Voicemail
from telephony.people import People
from telephony.voicemail import delete_voicemail


def owned_voicemail(user: object, pk: int) -> Voicemail:
    """The one ownership check for voicemail: someone else's is a 404."""
    return get_object_or_404(Voicemail, pk=pk, user=user)


def log_page(request: HttpRequest, kind: logs.LogKind) -> HttpResponse:
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
            names = People.of(request.user).names
            response = StreamingHttpResponse(logs.export_csv(kind, rows, names), content_type="text/csv; charset=utf-8")
        else:
            names = People.of(request.user).names
            response = StreamingHttpResponse(logs.export_json(kind, rows, names), content_type="application/json")
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
    }
    return render(request, f"telephony/{kind.name}.html", context)


@login_required
def calls(request: HttpRequest) -> HttpResponse:
    return log_page(request, logs.CALLS)


@login_required
def voicemail_list(request: HttpRequest) -> HttpResponse:
    return log_page(request, logs.VOICEMAIL)


@login_required
def voicemail_audio(request: HttpRequest, pk: int) -> HttpResponse:
    voicemail = owned_voicemail(request.user, pk)
    if not voicemail.audio:
        raise Http404("The audio is still on its way.")
    download = request.GET.get("download") == "1"
    filename = f"voicemail-{voicemail.created_at:%Y%m%d-%H%M}-{voicemail.pk}.mp3"
    response = FileResponse(
        voicemail.audio.open("rb"), content_type="audio/mpeg", as_attachment=download, filename=filename
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def voicemail_heard(request: HttpRequest, pk: int) -> HttpResponse:
    voicemail = owned_voicemail(request.user, pk)
    heard = request.POST.get("heard", "1") == "1"
    Voicemail.objects.filter(pk=voicemail.pk).update(heard=heard)
    if wants_json(request):  # voicemail.js, on the audio's first play
        return JsonResponse({"id": voicemail.pk, "heard": heard})
    return redirect("telephony:voicemail-list")


@login_required
@require_http_methods(["GET", "POST"])
def voicemail_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks first (and says what follows); POST deletes."""
    voicemail = owned_voicemail(request.user, pk)
    if request.method == "GET":
        return render(request, "telephony/voicemail_delete.html", {"voicemail": voicemail})
    enforce_user(request, "voicemail_delete_account", request.user.pk)  # queues its deletion at Twilio
    delete_voicemail(voicemail)
    messages.success(request, "Voicemail deleted.")
    return redirect("telephony:voicemail-list")
