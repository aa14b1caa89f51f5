"""One canonical key per email address (accounts/email_identity.py), stored unique.

Computes the key of every existing account. When two accounts share a key (the
same mailbox spelled two ways: Alice@ and alice@, U+017F-am@ and sam@, a fullwidth
copy), the migration stops and names their user ids, never their addresses:
the message lands in deploy logs, which must hold no personal data. An
operator looks the ids up (the admin of the release still running, or SQL),
decides which account keeps the address, changes the other's, and runs
migrate again.
"""

from collections import defaultdict

from django.db import migrations, models

from accounts.email_identity import KEY_MAX_LENGTH, email_key

_IDS_SHOWN = 20


class EmailKeyCollision(RuntimeError):
    pass


def collision_message(groups: list[list[int]]) -> str:
    shown = "; ".join(" & ".join(str(pk) for pk in group) for group in groups[:_IDS_SHOWN])
    more = f" (and {len(groups) - _IDS_SHOWN} more)" if len(groups) > _IDS_SHOWN else ""
    return (
        f"accounts.0003_email_key: {len(groups)} email address(es) belong to more than one account once "
        f"spelled canonically (user ids: {shown}{more}). Nothing was changed. Give each of these accounts "
        "its own address (in the admin of the release still running, or with SQL), then run migrate again "
        "(docs/accounts.md, 'Email identity')."
    )


def fill_email_keys(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    by_key: dict[str, list[int]] = defaultdict(list)
    rows = list(User.objects.order_by("pk").values_list("pk", "email"))
    for pk, email in rows:
        by_key[email_key(email)].append(pk)
    collisions = [pks for pks in by_key.values() if len(pks) > 1]
    if collisions:
        raise EmailKeyCollision(collision_message(collisions))
    for key, (pk,) in by_key.items():
        User.objects.filter(pk=pk).update(email_key=key)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_support_group")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_key",
            field=models.CharField(default="", editable=False, max_length=KEY_MAX_LENGTH),
            preserve_default=False,
        ),
        migrations.RunPython(fill_email_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="email_key",
            field=models.CharField(editable=False, max_length=KEY_MAX_LENGTH, unique=True),
        ),
        migrations.RemoveConstraint(model_name="user", name="accounts_user_email_ci_unique"),
    ]
