"""Template helpers of the workbench: names and standards messages in the page's language, and the
time an approval step has left ("剩余 2 个工作日") or is overdue by ("已超期 1 天")."""
from django import template
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kernel.workdays import working_days_between
from regions.oidc import enabled
from workbench.events import event_label

register = template.Library()


def _english():
    return (translation.get_language() or "").startswith("en")


@register.filter
def local_name(obj):
    """`name_en` in the English interface when there is one, else `name_zh` (agencies, jurisdictions, regions,
    asset classes)."""
    if obj is None:
        return ""
    english = getattr(obj, "name_en", "") if _english() else ""
    return english or getattr(obj, "name_zh", "") or str(obj)


@register.filter
def breach_text(breach):
    """A stored standards breach ({code, message_zh, message_en, ...}) in the page's language."""
    key = "message_en" if _english() else "message_zh"
    return breach.get(key) or breach.get("message") or breach.get("code", "")


def time_left(due_at, now=None):
    """(state, text): state is "left", "today" or "overdue"; working days left until the due date (step
    deadlines are set in working days), calendar days past it."""
    now = now or timezone.now()
    today, due = timezone.localdate(now), timezone.localdate(due_at)
    if due_at <= now:
        days = (today - due).days
        if days == 0:
            return "overdue", _("overdue since %(time)s") % {"time": timezone.localtime(due_at).strftime("%H:%M")}
        return "overdue", ngettext("overdue by %(n)s day", "overdue by %(n)s days", days) % {"n": days}
    if due == today:
        return "today", _("due today at %(time)s") % {"time": timezone.localtime(due_at).strftime("%H:%M")}
    days = working_days_between(today, due)
    return "left", ngettext("%(n)s working day left", "%(n)s working days left", days) % {"n": days}


@register.simple_tag
def deadline(due_at, now=None):
    if due_at is None:
        return ""
    state, text = time_left(due_at, now)
    return format_html('<span class="deadline deadline-{}" data-state="{}">{}</span>', state, state, text)


@register.filter(name="event_label")
def event_label_filter(action):
    return event_label(action)


@register.simple_tag
def sso_enabled():
    """Whether the sign-in page offers the unified identity service (OpenID Connect)."""
    return enabled()
