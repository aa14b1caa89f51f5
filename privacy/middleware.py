"""Records first-party usage data after each page view and staff access to personal data in the admin."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from privacy import audit, usage


class PrivacyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        usage.record_page_view(request, response)
        return response

    def process_template_response(self, request: HttpRequest, response: TemplateResponse) -> TemplateResponse:
        # Admin pages are TemplateResponses: the rows they show are still in their context here.
        audit.record_admin_access(request, response)
        return response
