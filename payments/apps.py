from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from payments import (
            checks,  # noqa: F401  (registers system checks)
            tasks,  # noqa: F401  (services queue them by name)
        )
