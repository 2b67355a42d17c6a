"""Admin for the exchange, usable by bureau staff: every list is limited to what the user may see
(`restrict`), filters and search on each, state changes go through the services (admin actions), and
the audit trail is read-only."""
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from exchange import models
from exchange.services import allocation, approvals, items
from kernel.errors import DomainError
from kernel.models import AuditEvent
from regions.admin_base import ReferenceAdmin, ScopedModelAdmin, ScopedTabularInline


class ScopedAdmin(ScopedModelAdmin):
    """Lists limited by the permission layer; state changes through services (admin actions)."""

    def _run(self, request, queryset, call, done):
        ok = 0
        for obj in queryset:
            try:
                call(request.user, obj)
                ok += 1
            except DomainError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        if ok:
            self.message_user(request, f"{done}: {ok}", messages.SUCCESS)


@admin.register(models.AssetClass)
class AssetClassAdmin(ReferenceAdmin):
    list_display = ("code", "name_zh", "name_en", "kind")
    list_filter = ("kind",)
    search_fields = ("code", "name_zh", "name_en")


@admin.register(models.CarbonFactor)
class CarbonFactorAdmin(ReferenceAdmin):
    list_display = ("asset_class", "effective_from", "kg_per_unit", "kg_per_cny", "source")
    list_filter = ("asset_class__kind",)
    search_fields = ("asset_class__code", "source")


class AssetPhotoInline(ScopedTabularInline):
    model = models.AssetPhoto
    fields = readonly_fields = ("file", "content_type", "size", "uploaded_at")


@admin.register(models.Asset)
class AssetAdmin(ScopedAdmin):
    list_display = ("description", "asset_class", "agency", "quantity", "original_value", "acquired_on",
                    "condition", "status")
    list_filter = ("status", "condition", "asset_class__kind", "agency__jurisdiction")
    search_fields = ("description", "asset_class__code", "asset_class__name_zh", "agency__name_zh")
    list_select_related = ("asset_class", "agency")
    inlines = [AssetPhotoInline]
    actions = ["mark_idle"]

    @admin.action(description=_("mark idle and list"))
    def mark_idle(self, request, queryset):
        self._run(request, queryset, lambda user, asset: items.mark_idle(user, asset=asset), _("listed"))


@admin.register(models.OfficeSpace)
class OfficeSpaceAdmin(ScopedAdmin):
    list_display = ("building", "floor", "rooms", "area_m2", "agency", "available_from", "status")
    list_filter = ("status", "agency__jurisdiction")
    search_fields = ("building", "rooms", "agency__name_zh")
    list_select_related = ("agency",)
    actions = ["mark_idle"]

    @admin.action(description=_("mark idle and list"))
    def mark_idle(self, request, queryset):
        self._run(request, queryset, lambda user, space: items.mark_idle(user, office_space=space), _("listed"))


@admin.register(models.Listing)
class ListingAdmin(ScopedAdmin):
    list_display = ("title", "agency", "jurisdiction", "quantity", "quantity_available", "status", "opened_at",
                    "own_window_ends_at", "region_window_ends_at")
    list_filter = ("status", "region", "jurisdiction")
    search_fields = ("title", "search_text")
    list_select_related = ("agency", "jurisdiction")
    actions = ["allocate"]

    @admin.action(description=_("allocate at window close"))
    def allocate(self, request, queryset):
        self._run(request, queryset, lambda user, listing: allocation.allocate_at_window_close(listing, user),
                  _("allocated"))


@admin.register(models.TransferRequest)
class TransferRequestAdmin(ScopedAdmin):
    list_display = ("listing", "agency", "quantity", "exception_requested", "status", "created_at")
    list_filter = ("status", "exception_requested")
    search_fields = ("listing__title", "agency__name_zh", "justification")
    list_select_related = ("listing", "agency")


class ApprovalStepInline(ScopedTabularInline):
    model = models.ApprovalStep
    fields = readonly_fields = ("kind", "opened_at", "yellow_at", "due_at", "decision", "decided_at", "decided_by",
                                "reason")


@admin.register(models.Transfer)
class TransferAdmin(ScopedAdmin):
    list_display = ("pk", "listing", "giver", "receiver", "quantity", "value", "status", "allocated_at",
                    "completed_at", "certificate_code")
    list_filter = ("status", "region", "giver_jurisdiction", "receiver_jurisdiction")
    search_fields = ("listing__title", "giver__name_zh", "receiver__name_zh", "certificate_code")
    list_select_related = ("listing", "giver", "receiver")
    inlines = [ApprovalStepInline]


class LightFilter(admin.SimpleListFilter):
    title = _("light")
    parameter_name = "light"

    def lookups(self, request, model_admin):
        return models.ApprovalStep.Light.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.annotate(light_now=models.ApprovalStep.light_expression()).filter(light_now=self.value())
        return queryset


@admin.register(models.ApprovalStep)
class ApprovalStepAdmin(ScopedAdmin):
    list_display = ("transfer", "kind", "jurisdiction", "opened_at", "due_at", "light", "decision", "decided_by")
    list_filter = (LightFilter, "decision", "kind")
    search_fields = ("transfer__listing__title",)
    list_select_related = ("transfer__giver", "transfer__receiver", "jurisdiction", "decided_by")
    actions = ["approve"]

    @admin.action(description=_("approve"))
    def approve(self, request, queryset):
        self._run(request, queryset, lambda user, step: approvals.decide_step(user, step, approve=True),
                  _("approved"))


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdmin):
    list_display = ("at", "actor", "token_prefix", "role", "action", "object_type", "object_id", "transfer")
    list_filter = ("action", "object_type", ("via_token", admin.EmptyFieldListFilter))
    search_fields = ("action", "object_id", "actor__username", "via_token__prefix")
    list_select_related = ("actor", "via_token")
    readonly_fields = fields = ["at", "actor", "token_prefix",
                                *(f.name for f in AuditEvent._meta.fields if f.name not in ("id", "at", "actor",
                                                                                            "via_token"))]

    @admin.display(description=_("via API token"), ordering="via_token__prefix")
    def token_prefix(self, event):
        """Who acted through which token: the token's prefix (its name stays with the jurisdiction's
        managers, who see it in the token list)."""
        return event.via_token.prefix if event.via_token_id else "—"


@admin.register(models.ImportJob)
class ImportJobAdmin(ScopedAdmin):
    list_display = ("pk", "agency", "status", "total_rows", "imported_rows", "created_at", "finished_at")
    list_filter = ("status", "dry_run")
    search_fields = ("agency__name_zh",)
