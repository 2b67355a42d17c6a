"""The coordinator dashboard's figures, read within the user's scope for one region and period: the
scorecard's lines per jurisdiction (so the page and the scorecard PDF share one definition of each KPI,
`builders.SCORE_NOTES`), the period allocation report's monthly trend, the outlines of the region's
settling jurisdictions for the map (`outlines`), the transfer flows, the status counts and the overdue (red) steps.
A constant number of queries whatever the number of transfers or jurisdictions."""
from dataclasses import dataclass
from datetime import date

from exchange import selectors as exchange
from exchange.models import TransferRequest
from regions.models import Region
from regions.selectors import jurisdictions_for
from regions.settling import settling_jurisdictions

from . import builders
from . import data as d


@dataclass(frozen=True)
class Dashboard:
    region: Region
    period_from: date
    period_to: date
    scorecard: d.Scorecard
    allocation: d.AllocationReport
    flows: list
    status_counts: dict
    pending_requests: int

    @property
    def totals(self):
        """Region totals of the scorecard lines (None where no line has the figure)."""
        lines = self.scorecard.lines

        def total(name):
            values = [getattr(line, name) for line in lines if getattr(line, name) is not None]
            return sum(values, d.ZERO) if values else None

        return {"items_taken": sum(line.items_taken for line in lines),
                "items_given": sum(line.items_given for line in lines),
                "value_saved": total("value_saved"), "compensation_paid": total("compensation_paid"),
                "co2_avoided_kg": total("co2_avoided_kg"),
                "transfers": self.allocation.transfers, "avg_turnaround_days": self.allocation.avg_turnaround_days}


def dashboard(user, region, period_from, period_to):
    """The region's dashboard for [period_from, period_to] as the user may see it."""
    scorecard = builders.build_scorecard(region, None, period_from, period_to, user=user)
    allocation = builders.build_allocation_report(region, None, period_from, period_to, user=user)
    pending = exchange.requests_for(user).filter(status=TransferRequest.Status.PENDING, listing__region=region)
    return Dashboard(region=region, period_from=period_from, period_to=period_to, scorecard=scorecard,
                     allocation=allocation, flows=exchange.transfer_flows(user, region),
                     status_counts=exchange.status_counts(user, region), pending_requests=pending.count())


def outlines(user, region, on):
    """The region's settling jurisdictions on `on` that have a simplified outline (the dashboard map)."""
    settlers = [j.pk for j in settling_jurisdictions(region, on)]
    return jurisdictions_for(user).filter(pk__in=settlers, boundary_simplified__isnull=False).order_by("code")
