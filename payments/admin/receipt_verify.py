"""Staff's "Verify with M-Pesa": a receipt number in, a Transaction Status
query out (``status_checks.status_check_send``), and the checks of that
receipt with M-Pesa's answers shown as they come (state, status, amount in
KES, parties masked, Nairobi times), with a refresh. Needs
``payments.verify_receipt``. Money M-Pesa says was paid into our shortcode
that the ledger never heard of is recorded there as unallocated by the
answer's applier, not here.
"""

from datetime import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from core.money import format_kes
from payments.admin.display import payer_phone, shows_full_phone
from payments.exceptions import StatusCheckRefused
from payments.models import TransactionStatusCheck
from payments.services.status_checks import status_check_send

VERIFY_PERMISSION = "payments.verify_receipt"
VERIFY_URL_NAME = "admin:payments_transactionstatuscheck_verify"
SHOWN_CHECKS = 10


class VerifyReceiptForm(forms.Form):
    receipt_number = forms.CharField(
        label="M-Pesa receipt number",
        max_length=20,
        help_text="As on the client's SMS or the statement, e.g. TLK7ABC123.",
    )


def verify_url(receipt_number: str = "") -> str:
    """The verify page, for ``receipt_number`` when given."""
    url = reverse(VERIFY_URL_NAME)
    return f"{url}?receipt={receipt_number}" if receipt_number else url


def verify_view(model_admin, request: HttpRequest) -> HttpResponse:
    """GET: the form, and the checks of ``?receipt=``; POST: send one."""
    if not request.user.has_perm(VERIFY_PERMISSION):
        raise PermissionDenied
    receipt = request.GET.get("receipt", "").strip().upper()[:20]
    form = VerifyReceiptForm(request.POST or None, initial={"receipt_number": receipt})
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["receipt_number"].strip().upper()
        try:
            check = status_check_send(transaction_id=number, actor=request.user)
        except StatusCheckRefused as exc:
            form.add_error("receipt_number", exc.message)
        except ImproperlyConfigured as exc:
            messages.error(request, f"M-Pesa is not configured: {exc}")
        else:
            _report_sent(request, check)
            return HttpResponseRedirect(verify_url(check.transaction_id))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Verify with M-Pesa",
        "form": form,
        "receipt": receipt,
        "checks": _checks_of(receipt, full=shows_full_phone(request)),
        "refresh_url": verify_url(receipt),
    }
    return TemplateResponse(
        request, "admin/payments/transactionstatuscheck/verify.html", context
    )


def _report_sent(request: HttpRequest, check: TransactionStatusCheck) -> None:
    if check.state == TransactionStatusCheck.State.FAILED:
        messages.error(
            request, f"M-Pesa did not take the query: {check.result_description}"
        )
    else:
        messages.success(
            request,
            f"Asked M-Pesa about {check.transaction_id}. Its answer usually "
            "comes within a minute: refresh this page.",
        )


def _checks_of(receipt: str, *, full: bool) -> list[dict]:
    if not receipt:
        return []
    checks = TransactionStatusCheck.objects.filter(transaction_id=receipt).order_by(
        "-created_at", "-id"
    )[:SHOWN_CHECKS]
    return [check_summary(check, full=full) for check in checks]


def check_summary(check: TransactionStatusCheck, *, full: bool = False) -> dict:
    """What staff see of one check and M-Pesa's answer."""
    answer = check.answer or {}
    amount = answer.get("amount")
    return {
        "check": check,
        "asked": check.transaction_id or check.original_conversation_id,
        "state": check.get_state_display(),
        "sent_at": nairobi(check.created_at),
        "answered_at": nairobi(check.answered_at),
        "result": " ".join(
            p for p in (check.result_code, check.result_description) if p
        )
        or "-",
        "status": answer.get("transaction_status") or "-",
        "receipt_no": answer.get("receipt_no") or "-",
        "amount": format_kes(amount) if isinstance(amount, int) else "-",
        "debit_party": party(answer.get("debit_party_name", ""), full=full),
        "credit_party": party(answer.get("credit_party_name", ""), full=full),
        "finalised_at": _answer_time(answer.get("finalised_at")),
        "ledger": answer.get("ledger", "-"),
    }


def party(value: str, *, full: bool = False) -> str:
    """``254708374149 - John Doe`` with the number masked; a shortcode (no
    phone) as it is."""
    number, _, name = (value or "").partition(" - ")
    number = number.strip()
    if not number:
        return "-"
    shown = payer_phone(number, full=full) if len(number) >= 9 else number
    return f"{shown} - {name.strip()}" if name.strip() else shown


def _answer_time(text: object) -> str:
    try:
        return nairobi(datetime.fromisoformat(str(text))) if text else "-"
    except ValueError:
        return "-"


def nairobi(moment) -> str:
    if moment is None:
        return "-"
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"
