"""``python manage.py daraja_simulator --port 8765``: the local Daraja.

Credentials default to the settings MPESA_CONSUMER_KEY,
MPESA_CONSUMER_SECRET, MPESA_BUSINESS_SHORT_CODE, MPESA_PASSKEY,
MPESA_INITIATOR_PASSWORD and MPESA_B2C_INITIATOR_PASSWORD, so the web app
and the simulator agree without further set-up. Refused with
DEBUG off unless ``--allow-production`` is given.
"""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from daraja_simulator.config import (
    add_arguments,
    config_from_arguments,
    production_refusal,
)
from daraja_simulator.server import SimulatorServer

logger = logging.getLogger(__name__)


def _settings_defaults() -> dict[str, str]:
    return {
        "consumer_key": settings.MPESA_CONSUMER_KEY,
        "consumer_secret": settings.MPESA_CONSUMER_SECRET,
        "short_code": settings.MPESA_BUSINESS_SHORT_CODE,
        "passkey": settings.MPESA_PASSKEY,
        # The simulator checks the SecurityCredential against these.
        "initiator_password": settings.MPESA_INITIATOR_PASSWORD,
        "b2c_initiator_password": settings.MPESA_B2C_INITIATOR_PASSWORD,
    }


class Command(BaseCommand):
    help = "Run the local Daraja simulator (OAuth, STK Push, STK Query, callbacks)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser, _settings_defaults())

    def handle(self, *args: object, **options: object) -> None:
        """Serve in the foreground until Ctrl-C."""
        refusal = production_refusal(
            debug=settings.DEBUG, allow_production=bool(options["allow_production"])
        )
        if refusal:
            raise CommandError(refusal)
        logging.getLogger("daraja_simulator").setLevel(logging.INFO)
        config = config_from_arguments(options)
        self.stdout.write(
            f"Daraja simulator on http://{config.host}:{config.port}/ "
            f"(control API at /simulator/), shortcode {config.short_code}"
        )
        SimulatorServer(config).serve_forever()
