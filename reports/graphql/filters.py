import django_filters

from api.filtering import EnumFilter
from reports.graphql.enums import ReportKind, ReportStatus
from reports.models import ReportJob


class ReportJobFilter(django_filters.FilterSet):
    kind = EnumFilter(ReportKind)
    status = EnumFilter(ReportStatus)
    mine = django_filters.BooleanFilter(method="filter_mine")

    class Meta:
        model = ReportJob
        fields = ["kind", "status", "mine"]

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if value and user is not None:
            return queryset.filter(requested_by_id=user.pk)
        return queryset
