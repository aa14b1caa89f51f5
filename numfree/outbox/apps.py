from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "numfree.outbox"
    label = "outbox"
    verbose_name = "Outbox"
