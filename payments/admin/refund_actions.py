"""The refund decisions in the admin and "Request refund…".

Approve, reject and cancel are changelist actions (the refund's page
posts to them too): the first POST shows a confirmation page with the
amount in KES, the receipt, the booking, the requester and a note; the
second ("apply") calls the service once per refund. Every refusal of a
service is an error message, never a 500; a form sent twice (two tabs)
finds the refund decided and says so.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from payments.admin.display import payer_phone
from payments.exceptions import PaymentError, RefundRefused
from payments.models import MpesaReceipt, Refund
from payments.services.refund_policy import (
    MAX_REASON_TEXT_LENGTH,
    b2c_configured,
    refund_remaining,
)
from payments.services.refunds import (
    refund_approve,
    refund_cancel,
    refund_reject,
    refund_request,
)

MAX_DECIDE = 20
_NOTE_HELP = "Recorded with your name in the refund's event log."


class DecisionForm(forms.Form):
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=MAX_REASON_TEXT_LENGTH,
        help_text=_NOTE_HELP,
    )


class RejectForm(DecisionForm):
    note = forms.CharField(
        label="Why it is rejected",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=MAX_REASON_TEXT_LENGTH,
        help_text=_NOTE_HELP,
    )


# What each decision is: its form, service, wording and button.
DECISIONS = {
    "approve_refunds": (DecisionForm, refund_approve, "approved", "Approve"),
    "reject_refunds": (RejectForm, refund_reject, "rejected", "Reject"),
    "cancel_refunds": (DecisionForm, refund_cancel, "cancelled", "Cancel"),
}


@admin.action(description="Approve…", permissions=["approve"])
def approve_refunds(modeladmin, request: HttpRequest, queryset: QuerySet):
    """Approve each selected refund (another person requested it)."""
    return _decide(modeladmin, request, queryset, "approve_refunds")


@admin.action(description="Reject…", permissions=["approve"])
def reject_refunds(modeladmin, request: HttpRequest, queryset: QuerySet):
    """Reject each selected refund, saying why."""
    return _decide(modeladmin, request, queryset, "reject_refunds")


@admin.action(description="Cancel…", permissions=["request"])
def cancel_refunds(modeladmin, request: HttpRequest, queryset: QuerySet):
    """Withdraw each selected request not yet approved."""
    return _decide(modeladmin, request, queryset, "cancel_refunds")


def _decide(modeladmin, request: HttpRequest, queryset: QuerySet, name: str):
    form_class, service, done, verb = DECISIONS[name]
    refunds = list(
        queryset.select_related("receipt", "booking", "requested_by").order_by("pk")[
            : MAX_DECIDE + 1
        ]
    )
    if len(refunds) > MAX_DECIDE:
        messages.error(request, f"Decide at most {MAX_DECIDE} refunds at once.")
        return None
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        for refund in refunds:
            _call(request, service, refund, form.cleaned_data["note"], done)
        return None
    return TemplateResponse(
        request,
        "admin/payments/refund/decide.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": f"{verb} refund{'s' if len(refunds) > 1 else ''}",
            "verb": verb,
            "opts": modeladmin.model._meta,
            "refunds": refunds,
            "form": form,
            "action_name": name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


def _call(
    request: HttpRequest, service: Callable, refund: Refund, note: str, done: str
) -> None:
    try:
        service(refund_id=refund.pk, actor=request.user, note=note)
    except PaymentError as exc:
        messages.error(request, f"Refund {refund.pk}: {exc.message}")
    else:
        messages.success(request, f"Refund {refund.pk} {done}.")


class RequestForm(forms.Form):
    """How much of the receipt goes back, why, and (B2C) to whom."""

    amount = forms.IntegerField(
        label="Amount (KES)",
        required=False,
        min_value=1,
        help_text="Whole shillings. Leave empty to refund the whole receipt "
        "(a Reversal); part of it is sent by B2C, when B2C is configured.",
    )
    reason = forms.ChoiceField(
        label="Reason", choices=[("", "---------"), *Refund.Reason.choices]
    )
    reason_text = forms.CharField(
        label="Details",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=MAX_REASON_TEXT_LENGTH,
        help_text='Required for "Other". Recorded with your name.',
    )
    recipient_phone = forms.CharField(
        label="Send to phone (B2C)",
        required=False,
        max_length=32,
        help_text="Only for part of a receipt, when M-Pesa gave the payer's "
        "number masked or hashed: the number the money goes to.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not b2c_configured():
            del self.fields["recipient_phone"]


def request_refund_view(modeladmin, request: HttpRequest, receipt_id: int):
    """Ask for the amount, reason and recipient, then request the refund
    and go to its page. A refusal stays on the form, on its field."""
    receipt = get_object_or_404(
        MpesaReceipt.objects.select_related("booking"), pk=receipt_id
    )
    form = RequestForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            refund = refund_request(
                receipt_number=receipt.receipt_number,
                actor=request.user,
                **form.cleaned_data,
            )
        except RefundRefused as exc:
            field = exc.context.get("field")
            form.add_error(field if field in form.fields else None, exc.message)
        except PaymentError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Refund {refund.pk} requested: {refund}.")
            url = reverse("admin:payments_refund_change", args=[refund.pk])
            return HttpResponseRedirect(url)
    return TemplateResponse(
        request,
        "admin/payments/refund/request.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": f"Request a refund of receipt {receipt.receipt_number}",
            "opts": modeladmin.model._meta,
            "receipt": receipt,
            "payer": payer_phone(receipt.payer_phone),
            "remaining": refund_remaining(receipt),
            "form": form,
        },
    )
