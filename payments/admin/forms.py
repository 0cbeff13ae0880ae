"""The intermediate form of the "Resolve manually" action."""

from django import forms

from payments.exceptions import InvalidPaymentInput
from payments.models import Payment
from payments.services.staff import receipt_held_elsewhere, receipt_normalise

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
        if receipt_held_elsewhere(receipt=receipt, payment_id=self.payments[0].pk):
            self.add_error(
                "mpesa_receipt_number",
                f"Receipt {receipt} is already on another payment.",
            )
        data["mpesa_receipt_number"] = receipt
        return data
