"""Texts as conversations: the list (/dashboard/messages/), one thread, its statuses as JSON for the page's script."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from numfree.middleware import error_response
from telephony import conversations, log_params, logs, numbers
from telephony.forms import NameNumberForm, SendSmsForm
from telephony.models import NamedNumber, SmsLog, normalize_number
from telephony.views.logs import log_page

# Any of these in the query string asks for the texts as a filtered log (and its exports).
LOG_PARAMS = {"export", "direction", "status", "number", "since", "until", "after", "view"}
THREAD_PAGE = 50


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    if not value.isdigit() or not 1 <= int(value) <= 10_000:
        raise log_params.InvalidLogQuery("page", "a page number from 1 to 10000")
    return int(value)


@login_required
def messages_home(request: HttpRequest) -> HttpResponse:
    if LOG_PARAMS & set(request.GET):
        return log_page(request, logs.MESSAGES)
    try:
        page = _page_number(request)
    except log_params.InvalidLogQuery as exc:
        return error_response(request, 400, "invalid", str(exc))
    items, more = conversations.conversations(request.user, page)
    return render(
        request,
        "telephony/conversations.html",
        {
            "conversations": items,
            "page": page,
            "more": more,
            "number": numbers.current_number(request.user),
            "send_form": SendSmsForm(),
        },
    )


def owned_thread_peer(user: object, peer: str) -> str:
    """The one check for a thread: a number the user has texts with, or a number one could text; else 404."""
    if len(peer) > SmsLog._meta.get_field("peer_number").max_length or not peer.isprintable():
        raise Http404("No such conversation.")  # never stored (and PostgreSQL refuses NUL in a query)
    if SmsLog.objects.filter(user=user, peer_number=peer).exists():
        return peer
    if normalize_number(peer) == peer:
        return peer
    raise Http404("No such conversation.")


@login_required
def thread(request: HttpRequest, peer: str) -> HttpResponse:
    peer = owned_thread_peer(request.user, peer)
    try:
        after = log_params.read_cursor(request.GET, "before")
    except log_params.InvalidLogQuery as exc:
        return error_response(request, 400, "invalid", str(exc))
    rows, older = logs.page(logs.MESSAGES, conversations.thread_rows(request.user, peer), after, THREAD_PAGE)
    if after is None:
        conversations.mark_read(request.user, peer)
    named = NamedNumber.objects.filter(user=request.user, number=peer).first()
    return render(
        request,
        "telephony/thread.html",
        {
            "peer": peer,
            "texts": [(row, conversations.status_label(row), conversations.is_final(row)) for row in reversed(rows)],
            "older": older,
            "named": named,
            "name_form": NameNumberForm(initial={"number": peer, "name": named.name if named else ""}),
            "send_form": SendSmsForm(initial={"to": peer}),
            "number": numbers.current_number(request.user),
            "can_reply": normalize_number(peer) == peer,
        },
    )


@login_required
def thread_statuses(request: HttpRequest, peer: str) -> HttpResponse:
    """The latest texts' statuses (thread.js asks at most every 5 s while one may still change)."""
    peer = owned_thread_peer(request.user, peer)
    rows = list(conversations.thread_rows(request.user, peer)[:THREAD_PAGE])
    response = JsonResponse({"messages": conversations.statuses(rows)})
    response["Cache-Control"] = "private, no-store"
    return response
