from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    # DESIGN.md's layout names this app numbers/; a top-level package called
    # `numbers` would shadow the standard library's `numbers` module (imported
    # by decimal, and so by Django itself), so it lives in telephony/.
    name = "telephony"
    verbose_name = "Numbers"
