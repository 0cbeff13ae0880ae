"""Base class for errors that the API reports with a stable code."""


class DomainError(Exception):
    """An expected failure of a business rule.

    Subclasses set ``status_code`` (the HTTP status the API answers with)
    and ``code`` (a stable, machine-readable string the SPA can switch on).
    """

    status_code = 400
    code = "error"
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, **context: object) -> None:
        self.message = message or self.default_message
        self.context = context
        super().__init__(self.message)

    @property
    def fields(self) -> dict[str, list[str]] | None:
        """Per-field messages for input errors; None for other errors."""
        field = self.context.get("field")
        return {str(field): [self.message]} if field else None

    def as_body(self) -> dict:
        """The API's error body for this error (see the exception handler)."""
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.fields is not None:
            body["fields"] = self.fields
        body.update({k: v for k, v in self.context.items() if k != "field"})
        return {"error": body}

    def headers(self) -> dict[str, str]:
        """Extra HTTP headers for the error response (e.g. Retry-After)."""
        return {}
