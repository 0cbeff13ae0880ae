"""App configuration of core: registers the deploy checks."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Haki Yetu core"

    def ready(self) -> None:
        from core import checks  # noqa: F401  (registers deploy checks)
