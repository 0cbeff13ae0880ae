"""The staff console in Debian's Chromium (Playwright): log in, filter
pending payments, re-query one against the Daraja simulator, see it
completed. The site runs in pytest-django's live server, the simulator
in-process on a free port."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from bookings.tests.factories import UserFactory
from daraja_simulator import SimulatorServer
from daraja_simulator.tests.fixtures import start_simulator, use_simulator
from payments.daraja.client import get_client
from payments.models import Payment, PaymentEvent
from payments.tests.factories import PaymentEventFactory, PaymentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "secret-pass-123"
PHONE = "254708374149"

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"{CHROMIUM} not found (apt-get install chromium)", allow_module_level=True
    )


@pytest.fixture
def simulator(settings) -> Iterator[SimulatorServer]:
    server = start_simulator(callback_timeout=0.5)
    use_simulator(settings, server)
    yield server
    server.stop()


@pytest.fixture
def page(live_server, monkeypatch) -> Iterator[object]:
    # Playwright's sync API keeps an event loop running in this thread;
    # the ORM calls the test makes meanwhile are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(15_000)
        yield context.new_page()
        browser.close()


def _paid_in_simulator(server: SimulatorServer) -> Payment:
    """A pending payment whose push the simulator accepted and then paid
    (its callback goes nowhere: as if lost)."""
    ack = get_client().stk_push(
        phone_number=PHONE,
        amount=3000,
        account_reference="HY B1",
        transaction_desc="Consultation",
        callback_url="http://127.0.0.1:9/hooks/cb/t0k",
    )
    requests.post(
        f"{server.base_url}/simulator/decide",
        json={"CheckoutRequestID": ack.checkout_request_id},
        timeout=5,
    )
    return PaymentFactory(
        phone_number=PHONE,
        checkout_request_id=ack.checkout_request_id,
        merchant_request_id=ack.merchant_request_id,
    )


def test_support_requeries_pending_payment_in_browser(page, simulator):
    expect = pytest.importorskip("playwright.sync_api").expect

    # given
    user = UserFactory(staff=True)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    _grant_support(user)
    payment = _paid_in_simulator(simulator)
    PaymentFactory(completed=True)

    # when
    page.goto("/admin/login/?next=/admin/payments/payment/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Pending", exact=True).click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.locator("input.action-select").first.check()
    page.locator("select[name=action]").select_option("requery_with_daraja")
    page.get_by_role("button", name="Go").click()

    # then
    expect(page.locator("ul.messagelist")).to_contain_text(
        re.compile(rf"Payment {payment.pk}: pending → completed")
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED


def _grant_support(user) -> None:
    """What the Support group grants. ``transaction=True`` tests flush the
    data migration's groups, so the permissions are granted directly."""
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="payments",
            codename__in=["view_payment", "view_paymentevent"],
        )
    )
    user.user_permissions.add(_requery_permission())


def _requery_permission() -> Permission:
    return Permission.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(Payment),
        codename="requery_payment",
        defaults={"name": "Can re-query payments with Daraja"},
    )[0]


def _long_history(payment: Payment) -> None:
    """Events whose bodies hold long unbroken values, as real ones do."""
    PaymentEventFactory(
        payment=payment,
        kind=PaymentEvent.Kind.DARAJA_EXCHANGE,
        operation="stk_push",
        request_body={
            "Password": "*" * 120,
            "CallBackURL": "https://pay.example.co.ke/api/payment/callback/" + "x" * 90,
            "PartyA": PHONE,
            "TransactionDesc": "Consultation",
        },
        response_body={"CheckoutRequestID": "ws_CO_" + "1" * 60},
        headers={"User-Agent": "Apache-HttpClient/4.5.5 " + "(Java/1.8.0)" * 12},
    )
    PaymentEventFactory(
        payment=payment,
        kind=PaymentEvent.Kind.STATUS_CHANGE,
        to_status="initiated",
        reason="a long reason " * 30,
    )


def test_payment_page_history_fits_a_1280_px_window(page):
    # given
    user = UserFactory(staff=True)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    _grant_support(user)
    payment = PaymentFactory(phone_number=PHONE)
    _long_history(payment)
    page.set_viewport_size({"width": 1280, "height": 900})

    # when
    page.goto(f"/admin/login/?next=/admin/payments/payment/{payment.pk}/change/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#events-group")

    # then: nothing to scroll sideways
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280
