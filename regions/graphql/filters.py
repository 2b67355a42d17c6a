import django_filters
from django.db.models import Q
from django.utils import timezone

from api.filtering import EnumFilter
from regions import models
from regions.graphql import enums


class RegionFilter(django_filters.FilterSet):
    code = django_filters.CharFilter()

    class Meta:
        model = models.Region
        fields = ["code"]


class JurisdictionFilter(django_filters.FilterSet):
    code = django_filters.CharFilter()
    level = EnumFilter(enums.JurisdictionLevel)
    parent_code = django_filters.CharFilter(field_name="parent__code")
    region = django_filters.CharFilter(field_name="memberships__region__code", distinct=True)
    name = django_filters.CharFilter(method="filter_name")

    class Meta:
        model = models.Jurisdiction
        fields = ["code", "level", "parent_code", "region", "name"]

    def filter_name(self, queryset, name, value):
        return queryset.filter(Q(name_zh__icontains=value) | Q(name_en__icontains=value))


class AgencyFilter(django_filters.FilterSet):
    jurisdiction_code = django_filters.CharFilter(field_name="jurisdiction__code")
    is_affairs_bureau = django_filters.BooleanFilter()
    name = django_filters.CharFilter(field_name="name_zh", lookup_expr="icontains")

    class Meta:
        model = models.Agency
        fields = ["jurisdiction_code", "is_affairs_bureau", "name"]


class StandardSetFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(field_name="region__code")
    effective_from_gte = django_filters.DateFilter(field_name="effective_from", lookup_expr="gte")
    effective_from_lte = django_filters.DateFilter(field_name="effective_from", lookup_expr="lte")

    class Meta:
        model = models.StandardSet
        fields = ["region", "effective_from_gte", "effective_from_lte"]


class ApiTokenFilter(django_filters.FilterSet):
    jurisdiction_code = django_filters.CharFilter(field_name="jurisdiction__code")
    active = django_filters.BooleanFilter(method="filter_active")

    class Meta:
        model = models.ApiToken
        fields = ["jurisdiction_code", "active"]

    def filter_active(self, queryset, name, value):
        live = Q(revoked_at__isnull=True, expires_at__gt=timezone.now())
        return queryset.filter(live) if value else queryset.exclude(live)
