from django.apps import AppConfig


class HakiyetuConfig(AppConfig):
    name = "hakiyetu"
    verbose_name = "Haki Yetu"

    def ready(self) -> None:
        from hakiyetu import (
            checks,  # noqa: F401  (registers deploy checks)
            login_guard,  # noqa: F401  (connects auth signals)
        )
        from hakiyetu.authentication import connect_signals

        connect_signals()
