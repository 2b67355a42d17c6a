import django_filters
from django.db.models import Q

from api.filtering import EnumFilter, GlobalIdFilter
from ledger import selectors
from ledger.graphql import enums
from ledger.models import Account, CompensationBreakdown, Leg, PaymentInstruction, SettlementPeriod


class AccountFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(field_name="region__code")
    jurisdiction = django_filters.CharFilter(field_name="jurisdiction__code")
    kind = EnumFilter(enums.AccountKind)
    as_of = django_filters.DateFilter(method="filter_as_of", label="Balances as of this date (default: all)")

    class Meta:
        model = Account
        fields = ["region", "jurisdiction", "kind", "as_of"]

    def filter_as_of(self, queryset, name, value):
        return queryset  # applied in filter_queryset, where balances are annotated once

    def filter_queryset(self, queryset):
        return selectors.with_balances(super().filter_queryset(queryset), self.form.cleaned_data.get("as_of"))


class PeriodFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(field_name="region__code")
    status = EnumFilter(enums.SettlementPeriodStatus)

    class Meta:
        model = SettlementPeriod
        fields = ["region", "status"]


class InstructionFilter(django_filters.FilterSet):
    period_id = GlobalIdFilter("SettlementPeriod", "periodId", field_name="period_id")
    confirmed = django_filters.BooleanFilter(field_name="transaction", lookup_expr="isnull", exclude=True)

    class Meta:
        model = PaymentInstruction
        fields = ["period_id", "confirmed"]


class LegFilter(django_filters.FilterSet):
    account_id = GlobalIdFilter("LedgerAccount", "accountId", field_name="account_id")
    date_from = django_filters.DateFilter(field_name="transaction__date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="transaction__date", lookup_expr="lte")

    class Meta:
        model = Leg
        fields = ["account_id", "date_from", "date_to"]


class CompensationFilter(django_filters.FilterSet):
    transfer_id = GlobalIdFilter("Transfer", "transferId", field_name="transfer_id")
    jurisdiction = django_filters.CharFilter(method="filter_jurisdiction",
                                             label="Giving or receiving settling jurisdiction (division code)")

    class Meta:
        model = CompensationBreakdown
        fields = ["transfer_id", "jurisdiction"]

    def filter_jurisdiction(self, queryset, name, value):
        return queryset.filter(Q(giver_jurisdiction__code=value) | Q(receiver_jurisdiction__code=value))
