"""Typed domain errors. Services raise them; GraphQL turns them into {field, code, message} entries."""
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base of every expected, user-facing failure. `code` is a stable machine-readable value."""

    code = "invalid"
    default_message = _("The request is invalid.")

    def __init__(self, message=None, *, field=None, code=None, details=None):
        self.message = str(message or self.default_message)
        self.field = field
        if code:
            self.code = code
        self.details = details or []
        super().__init__(self.message)


class PermissionDenied(DomainError):
    code = "permission_denied"
    default_message = _("You are not allowed to do this.")


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    default_message = _("Sign in or send an API token.")


class NotFound(DomainError):
    code = "not_found"
    default_message = _("No such object, or it is outside your scope.")


class ValidationFailed(DomainError):
    code = "invalid"


class InvalidState(DomainError):
    code = "invalid_state"
    default_message = _("The object is not in a state that allows this.")


class AlreadyAllocated(DomainError):
    code = "already_allocated"
    default_message = _("This item has already been allocated.")


class StandardsBreach(DomainError):
    code = "standards_breach"
    default_message = _("The request breaches the standards in force.")


class PeriodClosed(DomainError):
    code = "period_closed"
    default_message = _("The settlement period is closed.")


class LimitExceeded(DomainError):
    code = "limit_exceeded"
