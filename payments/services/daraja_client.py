"""Where the payments services get their Daraja client: ``daraja()``.

The one seam between the services and the adapter. A service that talks
to Daraja calls ``daraja_client.daraja()`` through this module (never
``get_client`` itself, never ``daraja`` imported by name), so the settings
are read in one place and the tests' ``fake_daraja`` replaces Daraja for
every service by patching this one function.
"""

from payments.daraja.client import DarajaClient, get_client


def daraja() -> DarajaClient:
    """The Daraja client configured from settings, read now.

    Raises:
        ImproperlyConfigured: naming every missing ``MPESA_*`` setting.
    """
    return get_client()
