"""Sign-in lockout (django-axes) that one attacker cannot turn against a whole office.

A username is locked for a sign-in address after AXES_FAILURE_LIMIT failures from that address (the pair
`[username, ip_address]`), and for every address only after AXES_USERNAME_FAILURE_LIMIT failures from any
(`username`), a much higher count. An address alone is never locked: an office behind one NAT address keeps
signing in while someone there guesses one colleague's password, and a guesser elsewhere cannot lock a person
out with a handful of tries. A lock ends AXES_COOLOFF_TIME after the failure that set it (failures during the
lock do not extend it), and the answer (HTTP 429, `Retry-After`) says when, in the reader's language.
"""
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

PAIR, USERNAME = 0, 1  # positions in settings.AXES_LOCKOUT_PARAMETERS


class PairThenUsernameHandler(AxesDatabaseHandler):
    """Axes counts failures per lockout parameter against one limit; this handler gives the username-wide
    count its own, higher limit."""

    def _counts(self, request, credentials):
        attempts = self.get_user_attempts(request, credentials)
        return [qs.aggregate(n=Sum("failures_since_start"), last=Max("attempt_time")) for qs in attempts]

    def get_failures(self, request, credentials=None) -> int:
        pair, username = self._counts(request, credentials)
        if (username["n"] or 0) >= settings.AXES_USERNAME_FAILURE_LIMIT:
            return max(pair["n"] or 0, get_failure_limit(request, credentials))
        return pair["n"] or 0

    def lock_ends_at(self, request, credentials=None):
        """When the lock on this request's (username, address) ends, and whether it holds for every address."""
        pair, username = self._counts(request, credentials)
        everywhere = (username["n"] or 0) >= settings.AXES_USERNAME_FAILURE_LIMIT
        last = (username if everywhere else pair)["last"] or timezone.now()
        return last + (get_cool_off(request) or timedelta(0)), everywhere


def lockout_response(request, original_response=None, credentials=None):
    """The sign-in page with the reason and the time to try again (AXES_LOCKOUT_CALLABLE)."""
    ends_at, everywhere = PairThenUsernameHandler().lock_ends_at(request, credentials)
    seconds = max(1, int((ends_at - timezone.now()).total_seconds() + 0.999))
    when = timezone.localtime(ends_at).strftime("%H:%M")
    minutes = (seconds + 59) // 60
    if everywhere:
        message = _("Too many failed sign-ins for this account. Try again after %(time)s (in %(minutes)d min).")
    else:
        message = _("Too many failed sign-ins for this account from your address. Try again after %(time)s "
                    "(in %(minutes)d min).")
    message = message % {"time": when, "minutes": minutes}
    response = render(request, "registration/login.html", {"form": AuthenticationForm(request), "locked": message,
                                                          "next": request.POST.get("next", "")},
                      status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(seconds)
    return response
