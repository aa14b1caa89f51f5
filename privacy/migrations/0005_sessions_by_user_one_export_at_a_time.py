"""Sessions tagged with their account (privacy.sessions) and one export in progress per user.

The sessions Django kept in its own table move to the new one, each tagged
with its account, so nobody is signed out. Before the one-export constraint,
any user's extra exports in progress (all but the newest) are marked failed.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_sessions(apps, schema_editor):  # type: ignore[no-untyped-def]
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.exceptions import ValidationError

    Session = apps.get_model("sessions", "Session")
    UserSession = apps.get_model("privacy", "UserSession")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    users = set(User.objects.values_list("pk", flat=True))
    decoder = SessionStore()
    batch = []
    for old in Session.objects.iterator(chunk_size=2000):
        try:
            user_id = User._meta.pk.to_python(decoder.decode(old.session_data).get("_auth_user_id"))
        except ValidationError:
            user_id = None
        batch.append(
            UserSession(
                old.session_key, old.session_data, old.expire_date, user_id=user_id if user_id in users else None
            )
        )
        if len(batch) >= 2000:
            UserSession.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    UserSession.objects.bulk_create(batch, ignore_conflicts=True)
    Session.objects.all().delete()


def keep_newest_export_in_progress(apps, schema_editor):  # type: ignore[no-untyped-def]
    ExportArchive = apps.get_model("privacy", "ExportArchive")
    in_progress = ExportArchive.objects.filter(status__in=["pending", "building"]).order_by("user_id", "-created_at")
    seen = set()
    extra = []
    for pk, user_id in in_progress.values_list("pk", "user_id"):
        if user_id in seen:
            extra.append(pk)
        seen.add(user_id)
    ExportArchive.objects.filter(pk__in=extra).update(status="failed")


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0004_request_flagged_for_support"),
        ("sessions", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="UserSession",
            fields=[
                (
                    "session_key",
                    models.CharField(max_length=40, primary_key=True, serialize=False, verbose_name="session key"),
                ),
                ("session_data", models.TextField(verbose_name="session data")),
                ("expire_date", models.DateTimeField(db_index=True, verbose_name="expire date")),
            ],
            options={
                "verbose_name": "browser session",
                "verbose_name_plural": "browser sessions",
                "abstract": False,
            },
        ),
        migrations.RunPython(keep_newest_export_in_progress, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="exportarchive",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["pending", "building"])),
                fields=("user",),
                name="privacy_one_export_at_a_time",
            ),
        ),
        migrations.AddField(
            model_name="usersession",
            name="user",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.RunPython(move_sessions, migrations.RunPython.noop),
    ]
