"""The one admin base for every model of the project (a test fails on any ModelAdmin of our apps not derived
from it). For non-superusers every queryset the admin reads — change list, change page, search, actions,
inlines — goes through the permission layer (`restrict`), exactly as GraphQL and the workbench do; records
change only through services, so add, change and delete are off unless an admin opts in."""
from django.contrib import admin

from regions.permissions import restrict


def is_staff(request):
    return request.user.is_active and request.user.is_staff


class ScopeMixin:
    public = False  # reference data (geography, asset classes): every staff user reads every row

    def scope(self, request, queryset):
        """The rows a non-superuser may see; override only where rows belong to a person (role bindings)."""
        return restrict(queryset, request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser or self.public:
            return queryset
        return self.scope(request, queryset)

    def has_view_permission(self, request, obj=None):
        return is_staff(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedModelAdmin(ScopeMixin, admin.ModelAdmin):
    def has_module_permission(self, request):
        return is_staff(request)


class ReferenceAdmin(ScopedModelAdmin):
    """Reference data: every staff user reads it; superusers (or the import commands) change it."""

    public = True

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class ScopedTabularInline(ScopeMixin, admin.TabularInline):
    """Rows shown under a parent, read-only, restricted like the parent's list."""

    extra = 0
    can_delete = False
