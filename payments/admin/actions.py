"""Admin actions on payments. Each calls a service; none writes itself.

Permissions: ``requery`` (Finance, Support), ``resolve`` and ``export``
(Finance); see ``PaymentAdmin.has_<name>_permission``. ``ResolveForm`` is
the intermediate form of "Resolve manually".
"""

import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from payments.exceptions import (
    InvalidPaymentInput,
    PaymentError,
    PaymentProviderUnavailable,
)
from payments.models import Payment
from payments.reporting import payment_csv_rows
from payments.selectors import payment_receipt_held_elsewhere
from payments.services.reconciliation import QueryOutcome, payment_query
from payments.services.staff import (
    payment_allowed_targets,
    payment_resolve_manually,
    receipt_normalise,
)

# Each re-query is an HTTP call made while the staff member waits.
MAX_REQUERY = 20
MAX_RESOLVE = 20


@admin.action(description="Re-query with Daraja", permissions=["requery"])
def requery_with_daraja(modeladmin, request: HttpRequest, queryset: QuerySet) -> None:
    """STK-query each selected payment and report what changed."""
    ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: MAX_REQUERY + 1])
    if len(ids) > MAX_REQUERY:
        messages.error(
            request,
            f"Select at most {MAX_REQUERY} payments to re-query; "
            "use `manage.py query_pending` for bulk reconciliation.",
        )
        return
    for payment_id in ids:
        try:
            outcome = payment_query(payment_id=payment_id, actor=request.user)
        except ImproperlyConfigured as exc:
            messages.error(request, f"Daraja is not configured: {exc}")
            return
        except PaymentProviderUnavailable as exc:
            messages.warning(
                request,
                f"Payment {payment_id}: Daraja could not be asked "
                f"({exc.message}); nothing changed.",
            )
            continue
        except PaymentError as exc:
            messages.error(request, f"Payment {payment_id}: {exc.message}")
            continue
        messages.add_message(request, _level(outcome), describe_outcome(outcome))


def describe_outcome(outcome: QueryOutcome) -> str:
    """One line for staff: what Daraja said and what it changed."""
    head = f"Payment {outcome.payment_id}: "
    detail = f" ({outcome.detail})" if outcome.detail else ""
    if outcome.changed:
        return head + f"{outcome.before} → {outcome.after}{detail}."
    return head + f"still {outcome.after}, Daraja: {outcome.answer}{detail}."


def _level(outcome: QueryOutcome) -> int:
    return messages.SUCCESS if outcome.changed else messages.INFO


@admin.action(description="Resolve manually…", permissions=["resolve"])
def resolve_manually(modeladmin, request: HttpRequest, queryset: QuerySet):
    """Ask for a target status and a note, then resolve each payment."""
    payments = list(queryset.order_by("pk")[: MAX_RESOLVE + 1])
    if len(payments) > MAX_RESOLVE:
        messages.error(request, f"Resolve at most {MAX_RESOLVE} payments at once.")
        return None
    targets = common_targets(payments)
    if not targets:
        messages.error(
            request,
            "The selected payments have no status in common to move to; "
            "select payments in the same status.",
        )
        return None
    form = ResolveForm(
        request.POST if "apply" in request.POST else None,
        targets=targets,
        payments=payments,
    )
    if form.is_valid():
        _resolve_each(request, payments, **form.cleaned_data)
        return None
    return TemplateResponse(
        request,
        "admin/payments/payment/resolve.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Resolve payments manually",
            "opts": modeladmin.model._meta,
            "payments": payments,
            "form": form,
            "action_name": "resolve_manually",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


def common_targets(payments: list[Payment]) -> list[str]:
    """Statuses every one of ``payments`` may be resolved to."""
    if not payments:
        return []
    allowed = set(payment_allowed_targets(payments[0]))
    for payment in payments[1:]:
        allowed &= set(payment_allowed_targets(payment))
    return sorted(allowed)


def _resolve_each(
    request: HttpRequest,
    payments: list[Payment],
    *,
    to: str,
    note: str,
    mpesa_receipt_number: str | None,
) -> None:
    for payment in payments:
        try:
            payment_resolve_manually(
                payment_id=payment.pk,
                to=to,
                note=note,
                actor=request.user,
                mpesa_receipt_number=mpesa_receipt_number,
            )
        except PaymentError as exc:
            messages.error(request, f"Payment {payment.pk}: {exc.message}")
        else:
            messages.success(request, f"Payment {payment.pk}: resolved to {to}.")


class _Echo:
    """A file-like object whose ``write`` returns the line (for streaming)."""

    def write(self, value: str) -> str:
        return value


def csv_response(payments: QuerySet[Payment]) -> StreamingHttpResponse:
    """Stream ``payments`` as CSV without holding them all in memory."""
    writer = csv.writer(_Echo())
    rows = (writer.writerow(row) for row in payment_csv_rows(payments))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="payments-{stamp}.csv"'
    return response


@admin.action(description="Export CSV", permissions=["export"])
def export_csv(modeladmin, request: HttpRequest, queryset: QuerySet):
    """The selected payments (or the whole filtered list) as CSV."""
    return csv_response(queryset)


Status = Payment.Status


class ResolveForm(forms.Form):
    """Target status (from the allowed transitions, none chosen at first),
    a required note and, to complete, the M-Pesa receipt number."""

    to = forms.ChoiceField(label="New status")
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=1000,
        help_text="Why, and the evidence (M-Pesa statement line, call with "
        "the client...). Recorded with your name in the payment's history.",
    )
    mpesa_receipt_number = forms.CharField(
        label="M-Pesa receipt number",
        required=False,
        max_length=64,
        help_text="Required to complete: the receipt on the M-Pesa statement, "
        "e.g. NLJ7RT61SV.",
    )

    def __init__(
        self, *args, targets: list[str], payments: list[Payment], **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.payments = payments
        self.fields["to"].choices = [("", "---------")] + [
            (target, Status(target).label) for target in targets
        ]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("to") != Status.COMPLETED:
            data["mpesa_receipt_number"] = None
            return data
        if len(self.payments) != 1:
            self.add_error(
                "to",
                "Complete one payment at a time: each needs its own receipt.",
            )
            return data
        try:
            receipt = receipt_normalise(data.get("mpesa_receipt_number"))
        except InvalidPaymentInput as exc:
            self.add_error("mpesa_receipt_number", exc.message)
            return data
        if payment_receipt_held_elsewhere(
            receipt=receipt, payment_id=self.payments[0].pk
        ):
            self.add_error(
                "mpesa_receipt_number",
                f"Receipt {receipt} is already on another payment.",
            )
        data["mpesa_receipt_number"] = receipt
        return data
