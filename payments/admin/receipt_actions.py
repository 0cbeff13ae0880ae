"""Staff actions on unallocated money: "Allocate to booking" and "Mark for
refund". Each asks for its input on an intermediate page (like "Resolve
manually") and calls one ledger service; none writes itself. Both need
``payments.allocate_receipt`` (``has_allocate_permission``).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from payments.admin.display import allocation_badge, payer_phone, shows_full_phone
from payments.exceptions import ReceiptActionRefused
from payments.models import MpesaReceipt
from payments.services.ledger_staff import (
    MAX_NOTE_LENGTH,
    receipt_allocate_to_booking,
    receipt_mark_for_refund,
)

MAX_MARK = 20
_NOTE_HELP = (
    "Why, and the evidence (the client's call, the M-Pesa statement line...). "
    "Recorded with your name in the event log."
)


class AllocateForm(forms.Form):
    """The booking reference the money is for, and why."""

    booking_reference = forms.CharField(
        label="Booking reference",
        max_length=32,
        help_text="HY and 6 characters, e.g. HYABC234 (any case, spaces or "
        "dashes). The booking must be pending payment and owe exactly this "
        "receipt's amount.",
    )
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=MAX_NOTE_LENGTH,
        help_text=_NOTE_HELP,
    )


class RefundMarkForm(forms.Form):
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=MAX_NOTE_LENGTH,
        help_text=_NOTE_HELP,
    )


@admin.action(description="Allocate to booking…", permissions=["allocate"])
def allocate_to_booking(modeladmin, request: HttpRequest, queryset: QuerySet):
    """Ask for a booking reference and a note, then allocate the receipt."""
    receipts = list(queryset.order_by("pk")[:2])
    if len(receipts) != 1:
        messages.error(request, "Allocate one receipt at a time: select exactly one.")
        return None
    receipt = receipts[0]
    form = AllocateForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        try:
            allocated = receipt_allocate_to_booking(
                receipt_id=receipt.pk,
                booking_reference=form.cleaned_data["booking_reference"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except ReceiptActionRefused as exc:
            # Shown on the form, so a mistyped reference is fixed in place.
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"Receipt {receipt.receipt_number} allocated to booking "
                f"{allocated.booking.reference}; the booking is confirmed and paid.",
            )
            return None
    return _page(
        modeladmin,
        request,
        template="allocate.html",
        title=f"Allocate receipt {receipt.receipt_number} to a booking",
        receipts=[receipt],
        form=form,
        action_name="allocate_to_booking",
    )


@admin.action(description="Mark for refund…", permissions=["allocate"])
def mark_for_refund(modeladmin, request: HttpRequest, queryset: QuerySet):
    """Ask for a note, then mark each selected receipt for refund."""
    receipts = list(queryset.order_by("pk")[: MAX_MARK + 1])
    if len(receipts) > MAX_MARK:
        messages.error(request, f"Mark at most {MAX_MARK} receipts at once.")
        return None
    form = RefundMarkForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        for receipt in receipts:
            _mark_one(request, receipt, form.cleaned_data["note"])
        return None
    return _page(
        modeladmin,
        request,
        template="mark_refund.html",
        title="Mark receipts for refund",
        receipts=receipts,
        form=form,
        action_name="mark_for_refund",
    )


def _mark_one(request: HttpRequest, receipt: MpesaReceipt, note: str) -> None:
    try:
        receipt_mark_for_refund(receipt_id=receipt.pk, actor=request.user, note=note)
    except ReceiptActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Receipt {receipt.receipt_number} marked for refund."
        )


def _page(modeladmin, request: HttpRequest, *, template: str, **context):
    full = shows_full_phone(request)
    rows = [
        {
            "receipt": receipt,
            "allocation": allocation_badge(receipt),
            "payer": payer_phone(receipt.payer_phone, full=full),
        }
        for receipt in context.pop("receipts")
    ]
    return TemplateResponse(
        request,
        f"admin/payments/unallocatedreceipt/{template}",
        {
            **modeladmin.admin_site.each_context(request),
            **context,
            "opts": modeladmin.model._meta,
            "rows": rows,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )
