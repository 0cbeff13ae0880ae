"""Errors of the account services, in the API's one error shape."""

from core.errors import DomainError


class UsernameTaken(DomainError):
    """Another sign-up took the username between the check and the insert."""

    code = "invalid"
    default_message = "That username is taken."

    def __init__(self, field: str = "username") -> None:
        super().__init__(field=field)


class EmailTaken(DomainError):
    """Another account took the e-mail address between the check and the
    write (two sign-ups at once)."""

    code = "invalid"
    default_message = "An account with that e-mail address exists."

    def __init__(self) -> None:
        super().__init__(field="email")
