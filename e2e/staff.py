"""Staff and ledger helpers of the end-to-end refund tests and the soak.

Staff users are made with ``manage.py shell`` in the processes'
environment (the set-up, like the soak's clients); everything they do
afterwards goes through the HTTP API. The ledger and a refund's history
are read back the same way, through the ORM of the processes' database.
``make_staff_users``, ``write_ledger`` and ``write_refund_history`` run
inside that shell.
"""

import json
import secrets
import time

import requests

from e2e.stack import Stack

REFUNDS = "/api/staff/refunds/"


def create_staff_users(stack: Stack, groups: dict[str, str]) -> str:
    """Create active staff users (username -> group); return their password."""
    password = secrets.token_urlsafe(12)
    code = (
        "from e2e.staff import make_staff_users; "
        f"make_staff_users({groups!r}, {password!r})"
    )
    stack.manage("shell", "-c", code, log=f"staff-{secrets.token_hex(3)}")
    return password


def make_staff_users(groups: dict[str, str], password: str) -> None:
    """Runs inside ``manage.py shell``: each user in its group."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    for username, group in groups.items():
        user = get_user_model().objects.create_user(
            username=username, password=password, is_staff=True
        )
        user.groups.add(Group.objects.get(name=group))


def refunds_of(
    session: requests.Session, base: str, *, reference: str, status: str = ""
) -> list[dict]:
    """The staff API's refunds of one booking (every page), oldest first."""
    url, params = f"{base}{REFUNDS}", {"status": status} if status else {}
    found: list[dict] = []
    while url:
        answer = session.get(url, params=params, timeout=30)
        answer.raise_for_status()
        page = answer.json()
        found += [r for r in page["results"] if r["booking_reference"] == reference]
        url, params = page.get("next"), {}
    return sorted(found, key=lambda r: r["id"])


def refund_decide(
    session: requests.Session, base: str, refund_id: int, decision: str, **body
) -> requests.Response:
    """``POST /api/staff/refunds/<id>/<approve|reject|cancel>/``."""
    return session.post(
        f"{base}{REFUNDS}{refund_id}/{decision}/", json=body, timeout=30
    )


def refund_wait(
    session: requests.Session,
    base: str,
    refund_id: int,
    *,
    statuses: tuple[str, ...],
    timeout: float = 45,
) -> dict:
    """Poll ``GET /api/staff/refunds/<id>/`` until its status is one of
    ``statuses``; the refund as the API shows it then."""
    deadline = time.monotonic() + timeout
    while True:
        refund = session.get(f"{base}{REFUNDS}{refund_id}/", timeout=30).json()
        if refund["status"] in statuses:
            return refund
        if time.monotonic() > deadline:
            raise AssertionError(f"refund {refund_id} not {statuses}: {refund}")
        time.sleep(0.5)


def read_ledger(stack: Stack, *, booking_id: int) -> list[dict]:
    """The ledger's receipts (money in and out) of one booking."""
    path = stack.var_dir / f"ledger-{booking_id}.json"
    code = (
        f"from e2e.staff import write_ledger; write_ledger({booking_id}, {str(path)!r})"
    )
    stack.manage("shell", "-c", code, log=f"ledger-{booking_id}")
    return json.loads(path.read_text())


def write_ledger(booking_id: int, path: str) -> None:
    """Runs inside ``manage.py shell``: one booking's ``MpesaReceipt`` rows."""
    from pathlib import Path

    from payments.models import MpesaReceipt

    rows = MpesaReceipt.objects.filter(booking_id=booking_id).order_by("id")
    fields = ("receipt_number", "direction", "channel", "amount", "allocation")
    Path(path).write_text(json.dumps(list(rows.values(*fields))))


def read_refund_history(stack: Stack, *, refund_id: int) -> list[str]:
    """The statuses one refund moved through, in order (its status events)."""
    path = stack.var_dir / f"refund-{refund_id}.json"
    code = (
        "from e2e.staff import write_refund_history; "
        f"write_refund_history({refund_id}, {str(path)!r})"
    )
    stack.manage("shell", "-c", code, log=f"refund-{refund_id}")
    return json.loads(path.read_text())


def write_refund_history(refund_id: int, path: str) -> None:
    """Runs inside ``manage.py shell``: the refund's ``to_status`` events."""
    from pathlib import Path

    from payments.models import PaymentEvent

    moves = PaymentEvent.objects.filter(
        refund_id=refund_id, kind=PaymentEvent.Kind.STATUS_CHANGE
    ).order_by("id")
    Path(path).write_text(json.dumps(list(moves.values_list("to_status", flat=True))))
