"""The product's URLs plus /bench/trivial/, a view that does nothing (the baseline)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("bench/trivial/", trivial), path("", include("numfree.urls"))]
