"""The API's error envelope: ``error_body`` builds every error answer, and
``DomainError`` is the base of the errors reported with a stable code."""


def error_body(
    code: str, message: str, fields: dict | None = None, /, **extra: object
) -> dict:
    """``{"error": {"code", "message", "fields"?, **extra}}``: the one shape
    of every error the API answers with; ``fields`` only when given.

    The three are positional-only, so ``extra`` may carry any key (a
    domain error's context is added as it is, after them)."""
    body: dict[str, object] = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    body.update(extra)
    return {"error": body}


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
        extra = {k: v for k, v in self.context.items() if k != "field"}
        return error_body(self.code, self.message, self.fields, **extra)

    def headers(self) -> dict[str, str]:
        """Extra HTTP headers for the error response (e.g. Retry-After)."""
        return {}
