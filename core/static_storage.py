"""Static file storage: the same one whatever ``DEBUG`` says.

``collectstatic`` always writes hashed, compressed files and their manifest
(WhiteNoise's ``CompressedManifestStaticFilesStorage``), so files collected
with the local ``.env`` (``DEBUG=1``) serve a ``DEBUG=0`` site. A name the
manifest lacks (no ``collectstatic`` yet, as in ``make test``, or a file
added since) falls back to its plain name with a warning instead of a
``ValueError`` on every ``{% static %}``, i.e. a 500 on every page.
"""

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed names from the manifest; the plain name when it has none."""

    _warned: set[str] = set()  # one warning per name and process, not per page

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            if name in self._warned:
                return name
            self._warned.add(name)
            logger.warning(
                "static file %s is not in the collectstatic manifest; "
                "serving its plain name (run collectstatic)",
                name,
            )
            return name
