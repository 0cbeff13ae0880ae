"""The project's one time zone: Kenyan wall-clock time (EAT, UTC+3, no DST).

Pure standard library, so the Daraja adapter may import it too. The
simulator (``daraja_simulator/``), a separate program, keeps its own.
"""

from zoneinfo import ZoneInfo

NAIROBI = ZoneInfo("Africa/Nairobi")
