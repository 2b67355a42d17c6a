"""Explicit FilterSets for the exchange lists (no `__all__`)."""
import django_filters

from api.enums import Light
from api.filtering import EnumFilter, GlobalIdFilter
from exchange import models, selectors
from exchange.graphql import enums
from kernel.models import AuditEvent


class AssetClassFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(field_name="code", lookup_expr="startswith")
    kind = EnumFilter(enums.AssetKind)

    class Meta:
        model = models.AssetClass
        fields = ["code", "kind"]


class AssetFilter(django_filters.FilterSet):
    status = EnumFilter(enums.AssetStatus)
    class_code = django_filters.CharFilter(field_name="asset_class__code", lookup_expr="startswith")
    condition = EnumFilter(enums.Condition)
    agency_code = django_filters.CharFilter(field_name="agency__code")
    text = django_filters.CharFilter(field_name="description", lookup_expr="icontains")

    class Meta:
        model = models.Asset
        fields = ["status", "class_code", "condition", "agency_code", "text"]


class OfficeSpaceFilter(django_filters.FilterSet):
    status = EnumFilter(enums.OfficeSpaceStatus)
    agency_code = django_filters.CharFilter(field_name="agency__code")
    min_area_m2 = django_filters.NumberFilter(field_name="area_m2", lookup_expr="gte")

    class Meta:
        model = models.OfficeSpace
        fields = ["status", "agency_code", "min_area_m2"]


class OccupancyFilter(django_filters.FilterSet):
    open = django_filters.BooleanFilter(field_name="ended_on", lookup_expr="isnull",
                                        label="Only occupancies not yet ended (true) or only ended ones (false)")

    class Meta:
        model = models.Occupancy
        fields = ["open"]


class ListingFilter(django_filters.FilterSet):
    text = django_filters.CharFilter(method="filter_text", label="words in title, class, agency, place (中文 ok)")
    class_code = django_filters.CharFilter(field_name="asset__asset_class__code", lookup_expr="startswith")
    kind = EnumFilter(enums.ListingKind, method="filter_kind", label="asset class kind, or OFFICE")
    condition = EnumFilter(enums.Condition, field_name="asset__condition")
    jurisdiction_code = django_filters.CharFilter(field_name="jurisdiction__code")
    window = EnumFilter(enums.ScreeningWindow, method="filter_window")
    status = EnumFilter(enums.ListingStatus)

    class Meta:
        model = models.Listing
        fields = ["text", "class_code", "kind", "condition", "jurisdiction_code", "window", "status"]

    def filter_text(self, queryset, name, value):
        return selectors.filter_text(queryset, value)

    def filter_window(self, queryset, name, value):
        return selectors.filter_window(queryset, value)

    def filter_kind(self, queryset, name, value):
        if value == "office":
            return queryset.filter(office_space__isnull=False)
        return queryset.filter(asset__asset_class__kind=value)


class TransferFilter(django_filters.FilterSet):
    status = EnumFilter(enums.TransferStatus)
    giver_jurisdiction_code = django_filters.CharFilter(field_name="giver_jurisdiction__code")
    receiver_jurisdiction_code = django_filters.CharFilter(field_name="receiver_jurisdiction__code")
    listing_id = GlobalIdFilter("Listing", "listingId", field_name="listing_id")

    class Meta:
        model = models.Transfer
        fields = ["status", "giver_jurisdiction_code", "receiver_jurisdiction_code", "listing_id"]


class ApprovalStepFilter(django_filters.FilterSet):
    light = EnumFilter(Light, field_name="light_now")
    kind = EnumFilter(enums.ApprovalKind)
    decision = EnumFilter(enums.ApprovalDecision)
    transfer_id = GlobalIdFilter("Transfer", "transferId", field_name="transfer_id")

    class Meta:
        model = models.ApprovalStep
        fields = ["light", "kind", "decision", "transfer_id"]


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(field_name="action", lookup_expr="startswith")

    class Meta:
        model = AuditEvent
        fields = ["action"]
