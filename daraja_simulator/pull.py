"""Pull Transactions registrations: one nominated number per shortcode."""

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .identifiers import mask_phone
from .masking import mask_url
from .records import iso


@dataclass(frozen=True, slots=True)
class PullRegistration:
    """A shortcode registered for Pull Transactions."""

    short_code: str
    nominated_number: str
    callback_url: str
    registered_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the control API (number and URL secret masked)."""
        return {
            "short_code": self.short_code,
            "nominated_number": mask_phone(self.nominated_number),
            "callback_url": mask_url(self.callback_url),
            "registered_at": iso(self.registered_at),
        }


class PullBook:
    """Registered shortcodes. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registrations: dict[str, PullRegistration] = {}

    def register(self, registration: PullRegistration) -> bool:
        """Keep the first registration of a shortcode; False if it had one."""
        with self._lock:
            if registration.short_code in self._registrations:
                return False
            self._registrations[registration.short_code] = registration
            return True

    def registered(self, short_code: str) -> bool:
        """Whether ``short_code`` may query."""
        with self._lock:
            return short_code in self._registrations

    def listing(self) -> list[dict[str, Any]]:
        """Every registration."""
        with self._lock:
            return [r.as_dict() for r in self._registrations.values()]

    def clear(self) -> None:
        """Forget every registration."""
        with self._lock:
            self._registrations.clear()
