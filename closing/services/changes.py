"""What changed in a day's figures since it was closed.

Both sides are the JSON of ``day_figures``; every number (and whether a
statement was imported) is compared, the lists of open items are not
(their counts and KES are).
"""

# Lists and links: their counts and amounts are compared instead.
IGNORED_KEYS = frozenset({"items", "list_url", "import_ids", "sources", "day"})


def figures_changes(*, before: dict, after: dict) -> list[str]:
    """One line per figure that differs: ``money in stk amount: 3000 →
    4500``, in the figures' order."""
    old, new = _leaves(before), _leaves(after)
    keys = list(new) + [key for key in old if key not in new]
    return [
        f"{key}: {_shown(old.get(key))} → {_shown(new.get(key))}"
        for key in keys
        if old.get(key) != new.get(key)
    ]


def _leaves(figures: dict, prefix: str = "") -> dict[str, object]:
    """Each number (or None) under its path, ``money in stk amount``."""
    found: dict[str, object] = {}
    for key, value in figures.items():
        if key in IGNORED_KEYS:
            continue
        path = f"{prefix} {key.replace('_', ' ')}".strip()
        if key == "statement":
            found[path] = "imported" if value else "none imported"
        if isinstance(value, dict):
            found.update(_leaves(value, path))
        elif key != "statement":
            found[path] = value
    return found


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
