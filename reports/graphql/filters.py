import django_filters

from reports.models import ReportJob, ReportKind


class ReportJobFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ReportKind.choices)
    status = django_filters.ChoiceFilter(choices=ReportJob.Status.choices)
    mine = django_filters.BooleanFilter(method="filter_mine")

    class Meta:
        model = ReportJob
        fields = ["kind", "status", "mine"]

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if value and user is not None:
            return queryset.filter(requested_by_id=user.pk)
        return queryset
