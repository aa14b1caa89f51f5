"""Usage data kept the raw path of each page, so reset and verification links stayed on record with their
tokens. Each stored path becomes the URL pattern it matches ("/reset/<uidb64>/<token>/"); a path that
matches no pattern any more is deleted, since nothing says it carried no secret."""

from __future__ import annotations

from django.db import migrations
from django.urls import Resolver404, resolve


def _route(path: str) -> str | None:
    # As privacy.usage.route_of, copied so this migration keeps meaning what it did.
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return None if match.route is None else ("/" + match.route.lstrip("^").removesuffix("$"))[:300]


def keep_routes_only(apps, schema_editor):  # type: ignore[no-untyped-def]
    PageView = apps.get_model("privacy", "PageView")
    paths = PageView.objects.values_list("path", flat=True).distinct().order_by()
    for path in list(paths.iterator(chunk_size=2000)):
        route = _route(path)
        rows = PageView.objects.filter(path=path)
        if route is None:
            rows.delete()
        elif route != path:
            rows.update(path=route)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_first_policy_version")]

    operations = [migrations.RunPython(keep_routes_only, migrations.RunPython.noop, elidable=True)]
