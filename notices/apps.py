from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "Notices"

    def ready(self) -> None:
        from notices import (
            checks,  # noqa: F401  (registers deploy checks)
            tasks,  # noqa: F401  (queued by name from bookings and payments)
        )
