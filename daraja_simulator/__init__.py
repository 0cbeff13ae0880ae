"""A local stand-in for Safaricom's Daraja: OAuth, STK Push, STK Query and
real callbacks, with scripted outcomes and fault switches.

Independent of ``payments.daraja`` on purpose: it checks our client
against Daraja's rules instead of sharing its code (and its bugs). Needs
only the standard library and ``requests``; Django is optional.

    server = SimulatorServer(SimulatorConfig(port=0, callback_delay=0.05))
    base_url = server.start()
    ...
    server.stop()

See docs/simulator.md.
"""

from .config import SimulatorConfig
from .server import SimulatorServer

__all__ = ["SimulatorConfig", "SimulatorServer"]
