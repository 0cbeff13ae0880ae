"""``python -m daraja_simulator --port 8765``: run without Django.

Credentials default to the ``MPESA_*`` environment variables, then to the
public sandbox shortcode and passkey. Refused unless ``DEBUG=1`` is in the
environment or ``--allow-production`` is given.
"""

import argparse
import logging
import os

from .config import (
    add_arguments,
    config_from_arguments,
    env_defaults,
    env_flag,
    production_refusal,
)
from .server import SimulatorServer


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m daraja_simulator", description="Local Daraja simulator"
    )
    add_arguments(parser, env_defaults())
    parser.add_argument("--log-level", default="INFO")
    options = vars(parser.parse_args(argv))
    refusal = production_refusal(
        debug=env_flag(os.environ.get("DEBUG")),
        allow_production=options.pop("allow_production"),
    )
    if refusal:
        parser.error(refusal)
    logging.basicConfig(
        level=options.pop("log_level").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    SimulatorServer(config_from_arguments(options)).serve_forever()


if __name__ == "__main__":
    main()
