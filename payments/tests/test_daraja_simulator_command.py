"""``python manage.py daraja_simulator``: Django settings as defaults, and the
DEBUG-off refusal that ``--allow-production`` lifts.

The simulator itself is tested in daraja_simulator/tests/; these tests are
about our management command that wraps it.
"""

import pytest
from django.core.management import CommandError, call_command

from daraja_simulator.server import SimulatorServer


@pytest.fixture
def served(monkeypatch) -> dict:
    """Records the config the simulator would serve, instead of serving."""
    seen: dict = {}
    monkeypatch.setattr(
        SimulatorServer, "serve_forever", lambda self: seen.update(config=self.config)
    )
    return seen


@pytest.mark.django_db(databases=[])
def test_management_command_uses_django_settings(monkeypatch, settings):
    # given
    settings.DEBUG = True
    settings.MPESA_CONSUMER_KEY = "from-settings"
    settings.MPESA_BUSINESS_SHORT_CODE = "600123"
    seen = {}
    monkeypatch.setattr(
        SimulatorServer, "serve_forever", lambda self: seen.update(config=self.config)
    )

    # when
    call_command("daraja_simulator", "--port", "0", "--seed", "3")

    # then
    assert seen["config"].consumer_key == "from-settings"
    assert seen["config"].short_code == "600123"
    assert seen["config"].seed == 3


@pytest.mark.django_db(databases=[])
def test_management_command_refuses_to_start_with_debug_off(settings, served):
    # given
    settings.DEBUG = False
    # when / then
    with pytest.raises(CommandError, match="--allow-production"):
        call_command("daraja_simulator", "--port", "0")
    assert served == {}


@pytest.mark.django_db(databases=[])
def test_management_command_starts_with_debug_off_when_allowed(settings, served):
    # given
    settings.DEBUG = False
    # when
    call_command("daraja_simulator", "--port", "0", "--allow-production")
    # then
    assert "config" in served


@pytest.mark.django_db(databases=[])
def test_management_command_passes_the_initiator_passwords(settings, served):
    # given the initiator passwords our client encrypts
    settings.DEBUG = True
    settings.MPESA_INITIATOR_PASSWORD = "Init-From-Settings#1"
    settings.MPESA_B2C_INITIATOR_PASSWORD = "B2c-From-Settings#2"

    # when the simulator is started from Django
    call_command("daraja_simulator", "--port", "0")

    # then it checks SecurityCredentials against them
    assert served["config"].initiator_password == "Init-From-Settings#1"
    assert served["config"].b2c_initiator_password == "B2c-From-Settings#2"


@pytest.mark.django_db(databases=[])
def test_management_command_defaults_the_initiator_password(settings, served):
    settings.DEBUG = True
    settings.MPESA_INITIATOR_PASSWORD = ""
    call_command("daraja_simulator", "--port", "0", "--result-delay", "0.5")
    assert served["config"].initiator_password == "Safaricom999!*!"
    assert served["config"].result_delay == 0.5
