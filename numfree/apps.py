from django.apps import AppConfig


class NumfreeConfig(AppConfig):
    name = "numfree"
    verbose_name = "NumFree"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from numfree.sqlite_wal import set_pragmas

        connection_created.connect(set_pragmas, dispatch_uid="numfree.sqlite_pragmas")
