"""The intermediate form of the "Resolve manually" action."""

from django import forms

from payments.models import Payment


class ResolveForm(forms.Form):
    """Target status (from the allowed transitions) and a required note."""

    to = forms.ChoiceField(label="New status")
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=1000,
        help_text="Why, and the evidence (M-Pesa statement line, call with "
        "the client...). Recorded with your name in the payment's history.",
    )

    def __init__(self, *args, targets: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [
            (target, Payment.Status(target).label) for target in targets
        ]
