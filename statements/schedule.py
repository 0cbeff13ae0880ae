"""The statements' beat entries, read by ``hakiyetu/settings.py``.

Pure (no Django): settings call it with their own values.
"""

PULL_TASK = "statements.tasks.pull_transactions_task"
PULL_ENTRY = "pull-transactions"


def pull_beat_entries(*, enabled: bool, interval_minutes: int) -> dict[str, dict]:
    """``{"pull-transactions": ...}`` every ``interval_minutes`` (at least
    one) when ``MPESA_PULL_ENABLED``; else nothing. Each run asks for two
    intervals back (at least two hours, at most 47), so consecutive windows
    overlap and a run that failed is covered by the next."""
    if not enabled:
        return {}
    minutes = max(1, int(interval_minutes))
    hours = min(47, max(2, -(-2 * minutes // 60)))
    return {
        PULL_ENTRY: {
            "task": PULL_TASK,
            "schedule": minutes * 60.0,
            "kwargs": {"hours": hours},
        }
    }
