import django_filters

from regions import models


class RegionFilter(django_filters.FilterSet):
    code = django_filters.CharFilter()

    class Meta:
        model = models.Region
        fields = ["code"]


class JurisdictionFilter(django_filters.FilterSet):
    code = django_filters.CharFilter()
    level = django_filters.ChoiceFilter(choices=models.Jurisdiction.Level.choices)
    parent_code = django_filters.CharFilter(field_name="parent__code")
    region = django_filters.CharFilter(field_name="memberships__region__code", distinct=True)
    name = django_filters.CharFilter(method="filter_name")

    class Meta:
        model = models.Jurisdiction
        fields = ["code", "level", "parent_code", "region", "name"]

    def filter_name(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(Q(name_zh__icontains=value) | Q(name_en__icontains=value))


class AgencyFilter(django_filters.FilterSet):
    jurisdiction_code = django_filters.CharFilter(field_name="jurisdiction__code")
    is_affairs_bureau = django_filters.BooleanFilter()
    name = django_filters.CharFilter(field_name="name_zh", lookup_expr="icontains")

    class Meta:
        model = models.Agency
        fields = ["jurisdiction_code", "is_affairs_bureau", "name"]
