"""App configuration of accounts: connects the token and login signals."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import login_guard  # noqa: F401  (connects auth signals)
        from accounts.authentication import connect_signals

        connect_signals()
