"""The soak's counts (see ``e2e/soak.py``): what the test prints and keeps.

The report goes to stdout (run pytest with ``-s``) and, with every
violation, to ``test-artifacts/soak/soak-<sqlite|postgresql>-<N>.json``.
"""

import json
import sys
from collections import Counter

from e2e.soak import SoakConfig
from e2e.stack import BASE_DIR, Stack

REPORT_DIR = BASE_DIR / "test-artifacts" / "soak"
PRINTED_ITEMS = 12  # longer lists go to the JSON report only


def booking_counts(runs: list, snapshot: dict, *, clients: int) -> dict:
    """Bookings requested and made, their amounts and their states."""
    booked = [r for r in runs if r.booking_id]
    return {
        "requested": len(runs),
        "booked": len(booked),
        "clients": clients,
        "amounts (KES)": sorted({r.amount for r in booked}),
        "by status/payment status": dict(
            Counter(
                f"{b['status']}/{b['payment_status']}" for b in snapshot["bookings"]
            )
        ),
    }


def push_counts(runs: list) -> dict:
    """Pushes the clients sent, by answer, and bookings that retried."""
    attempts = [a for r in runs for a in r.attempts]
    return {
        "sent": len(attempts),
        "answers": dict(Counter(f"{a['http']} {a['code']}".strip() for a in attempts)),
        "bookings retried after an unsent push": sum(
            1 for r in runs if len(r.attempts) > 1
        ),
    }


def simulator_counts(simulator: dict, *, slow: float) -> dict:
    """The simulator's view: results, faults, callbacks and answers.

    A push counts as slow when the simulator held it past ``slow`` seconds
    (the processes' read time-out).
    """
    ledger = simulator["ledger"]
    return {
        "pushes accepted": ledger["pushes"],
        "by result code": ledger["by_result_code"],
        "successful_count": ledger["successful_count"],
        "successful_amount": ledger["successful_amount"],
        "callback faults": dict(
            Counter(f for p in ledger["payments"] for f in p["faults"])
        ),
        "callbacks by kind/state": dict(
            Counter(f"{c['kind']}/{c['state']}" for c in simulator["callbacks"])
        ),
        "push answers": _statuses(simulator["pushes"]),
        "slow pushes": sum(
            1 for r in simulator["pushes"] if (r["response_delay"] or 0) > slow
        ),
        "query answers": _statuses(simulator["queries"]),
    }


def paybill_counts(runs: list, simulator: dict) -> dict:
    """Bookings paid by Paybill, by variant and the simulator's status, and
    the C2B confirmations it sent (double notifications included)."""
    c2b = simulator["c2b"]
    notes = [
        n
        for p in c2b["payments"] + c2b["double_notifications"]
        for n in p["notifications"]
    ]
    return {
        "bookings by variant/status": dict(
            Counter(
                f"{r.paybill_variant}/{(r.paybill or {}).get('status')}"
                for r in runs
                if r.paybill_variant
            )
        ),
        "paybill_successful_amount": simulator["ledger"]["paybill_successful_amount"],
        "double notifications": len(c2b["double_notifications"]),
        "C2B requests by kind/state/HTTP": dict(
            Counter(f"{n['kind']}/{n['state']}/{n.get('http_status')}" for n in notes)
        ),
        "MSISDN forms": dict(
            Counter(
                "hashed" if len(n["body"]["MSISDN"]) == 64 else "masked" for n in notes
            )
        ),
    }


def ledger_counts(snapshot: dict) -> dict:
    """The receipts ledger: rows by channel/allocation, sightings by source."""
    receipts = snapshot["receipts"]
    return {
        "receipts": len(receipts),
        "by channel/allocation/reason": dict(
            Counter(
                "/".join(
                    filter(
                        None, (r["channel"], r["allocation"], r["unallocated_reason"])
                    )
                )
                for r in receipts
            )
        ),
        "sightings by source": dict(
            Counter(s["source"] for s in snapshot["sightings"])
        ),
        "receipts seen twice or more": sum(
            1
            for n in Counter(s["receipt_id"] for s in snapshot["sightings"]).values()
            if n > 1
        ),
        "completed, receipt pending": len(snapshot["receipt_pending"]),
        "C2B confirmations stored/with payment": [
            len(snapshot["confirmations"]),
            sum(1 for e in snapshot["confirmations"] if e["payment_id"]),
        ],
    }


def _statuses(logged: list[dict]) -> dict:
    return dict(Counter(str(r["response_status"]) for r in logged))


def report(
    stack: Stack,
    config: SoakConfig,
    counts: dict,
    problems: dict,
    evidence: dict | None = None,
) -> None:
    """Print the counts and any violation; keep them as JSON too, and the
    rows they came from (``evidence``: the snapshot and the simulator's
    view) beside them as ``...-rows.json``."""
    vendor = "postgresql" if stack.env["DATABASE_URL"].startswith("post") else "sqlite"
    title = f"soak: {config.bookings} bookings, seed {config.seed}, {vendor}"
    path = REPORT_DIR / f"soak-{vendor}-{config.bookings}.json"
    lines = [f"\n===== {title}"]
    lines += [f"{key}: {json.dumps(_short(value))}" for key, value in counts.items()]
    broken = {k: _short(v) for k, v in problems.items() if v}
    lines.append(f"invariants broken: {json.dumps(broken) if broken else 'none'}")
    lines.append(f"every receipt, payment and violation: {path}")
    sys.stdout.write("\n".join(lines) + "\n")
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"counts": counts, "problems": problems}, indent=1))
    if evidence is not None:
        path.with_name(f"{path.stem}-rows.json").write_text(json.dumps(evidence))


def _short(value: object) -> object:
    """A count's printed form: a list longer than ``PRINTED_ITEMS`` becomes
    its length (the JSON report keeps every item)."""
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    if isinstance(value, list) and len(value) > PRINTED_ITEMS:
        return f"{len(value)} items"
    if isinstance(value, list):
        return [_short(v) for v in value]
    return value
