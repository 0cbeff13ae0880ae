"""Several beat or worker processes checking at once send one notice per
change: the state row's lock lets one of them flip it. PostgreSQL only
(SQLite has no row locks)."""

import pytest
from django.core import mail

from core.tests.concurrency import run_at_once
from observability.alerting import alert_state_apply
from observability.alerts import Condition
from observability.models import AlertState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_checkers_racing_on_a_new_condition_notify_once(settings):
    # given four checkers that all see the condition start
    settings.ALERT_EMAILS = ["ops@hakiyetu.test"]
    settings.ALERT_WEBHOOK_URL = ""
    changes = []

    def checker():
        change = alert_state_apply(name="race", condition=Condition(True, "x"))
        if change is not None:
            changes.append(change)

    # when
    errors = run_at_once(checker, checker, checker, checker)
    # then
    assert errors == []
    assert [c.change for c in changes] == ["started"]
    assert len(mail.outbox) == 1
    assert AlertState.objects.get(name="race").active is True
