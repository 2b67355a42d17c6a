"""Helpers shared by the workbench views: render with the principal, run one service call in one
transaction and put its typed errors on the form fields where the user typed."""
from django.db import transaction
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from kernel.errors import DomainError
from regions.permissions import get_principal


def has_page(name):
    """True when the workbench has that page (ledger and reports pages exist once their services do)."""
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def english():
    return (translation.get_language() or "zh").startswith("en")


def page(request, template, context=None, status=200):
    context = dict(context or {})
    context.setdefault("principal", get_principal(request.user))
    context.setdefault("english", english())
    context.setdefault("web_has_ledger", has_page("web:ledger"))
    context.setdefault("web_has_reports", has_page("web:reports"))
    return render(request, template, context, status=status)


def add_domain_error(form, exc: DomainError, aliases=None):
    """Attach every message of a DomainError to its form field (or to the form as a whole)."""
    aliases = aliases or {}
    details = exc.details or [{"field": exc.field, "message": exc.message}]
    for detail in details:
        name = detail.get("field")  # services name it as their argument, in snake_case like the form's
        name = aliases.get(name, name)
        form.add_error(name if name in form.fields else None, str(detail["message"]))


def attempt(form, call, *args, aliases=None, **kwargs):
    """Run one service call atomically. On a DomainError nothing is saved, the errors go onto `form`
    (which keeps what the user typed). Returns (succeeded, result)."""
    try:
        with transaction.atomic():
            return True, call(*args, **kwargs)
    except DomainError as exc:
        add_domain_error(form, exc, aliases)
        return False, None
