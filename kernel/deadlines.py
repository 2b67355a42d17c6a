"""Working-day time limits and traffic lights, one rule for every stage (approval steps, requests pending
allocation, handover, settlement payment, access requests): green until two thirds of the time is used,
yellow until the deadline, red after it (亮灯预警)."""
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.workdays import add_working_days


class Light(models.TextChoices):
    GREEN = "green", _("green")
    YELLOW = "yellow", _("yellow")
    RED = "red", _("red")


GREEN, YELLOW, RED = Light.GREEN.value, Light.YELLOW.value, Light.RED.value


def yellow_from(opened_at, due_at):
    """When the light turns yellow: two thirds of the time from opening to the deadline used."""
    return opened_at + (due_at - opened_at) * 2 / 3


def clock(opened_at, working_days):
    """(yellow_at, due_at) for a stage opened at `opened_at` with `working_days` to finish."""
    due = add_working_days(opened_at, working_days)
    return yellow_from(opened_at, due), due


def light(yellow_at, due_at, when=None):
    """The light at `when` (now) of an open stage; None when the stage has no deadline."""
    if due_at is None:
        return None
    when = when or timezone.now()
    if when >= due_at:
        return RED
    if yellow_at is not None and when >= yellow_at:
        return YELLOW
    return GREEN


def light_expression(open_q, prefix="", when=None):
    """The light as SQL (NULL when the stage is not open, `open_q`), for filtering and ordering in the DB."""
    when = when or timezone.now()
    return models.Case(
        models.When(~open_q, then=models.Value(None, output_field=models.CharField())),
        models.When(Q(**{f"{prefix}due_at__lte": when}), then=models.Value(RED)),
        models.When(Q(**{f"{prefix}yellow_at__lte": when}), then=models.Value(YELLOW)),
        default=models.Value(GREEN), output_field=models.CharField())


def light_rank_expression(open_q, prefix="", when=None):
    """Red 0, yellow 1, green 2, not open 3, as SQL: ascending order puts the most urgent first."""
    when = when or timezone.now()
    return models.Case(
        models.When(~open_q, then=models.Value(3)),
        models.When(Q(**{f"{prefix}due_at__lte": when}), then=models.Value(0)),
        models.When(Q(**{f"{prefix}yellow_at__lte": when}), then=models.Value(1)),
        default=models.Value(2), output_field=models.IntegerField())
