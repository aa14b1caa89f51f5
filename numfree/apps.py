from django.apps import AppConfig


class NumfreeConfig(AppConfig):
    name = "numfree"
    verbose_name = "NumFree"
