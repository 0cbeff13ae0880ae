from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from core.metrics import count_daraja_request
        from payments import (
            checks,  # noqa: F401  (registers system checks)
            tasks,  # noqa: F401  (services queue them by name)
        )
        from payments.daraja.observation import observe_requests

        observe_requests(count_daraja_request)
