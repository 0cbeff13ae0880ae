from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Metrics and alerts"

    def ready(self) -> None:
        from observability import (
            checks,  # noqa: F401  (registers deploy checks)
            tasks,  # noqa: F401  (beat runs them by name)
        )
