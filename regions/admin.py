"""Admin for regions, usable by bureau staff offline: geometry is shown read-only as GeoJSON (no map tiles
needed), lists are limited by the permission layer, and state changes go through the services (tokens are
revoked with `tokens.revoke_token`, standards versions created and edited with the standards service, so
history is never rewritten and every change is audited)."""
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kernel.errors import DomainError
from regions import models
from regions.admin_base import ReferenceAdmin, ScopedModelAdmin, ScopedTabularInline, is_staff
from regions.permissions import allows, get_principal, restrict
from regions.scope import Scope
from regions.services import roles, settling, standards, tokens


def geojson(geometry, limit=600):
    if geometry is None:
        return "—"
    text = json.dumps(json.loads(geometry.geojson), ensure_ascii=False)
    return format_html("<code style='white-space:pre-wrap'>{}</code>", text if len(text) <= limit
                       else f"{text[:limit]}… ({geometry.num_coords} points)")


@admin.register(models.Region)
class RegionAdmin(ReferenceAdmin):
    list_display = ("code", "name_zh", "name_en", "two_factor_required")
    search_fields = ("code", "name_zh", "name_en")


class MembershipInline(ScopedTabularInline):
    model = models.Membership
    fk_name = "jurisdiction"
    public = True


@admin.register(models.Jurisdiction)
class JurisdictionAdmin(ReferenceAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "parent")
    list_filter = ("level", "memberships__region")
    search_fields = ("code", "name_zh", "name_en")
    list_select_related = ("parent",)
    fields = ("code", "level", "parent", "name_zh", "name_en", "centroid_geojson", "outline_geojson")
    readonly_fields = ("centroid_geojson", "outline_geojson")
    inlines = [MembershipInline]

    @admin.display(description=_("representative point (GeoJSON)"))
    def centroid_geojson(self, obj):
        return geojson(obj.centroid)

    @admin.display(description=_("simplified boundary (GeoJSON)"))
    def outline_geojson(self, obj):
        return geojson(obj.boundary_simplified)


@admin.register(models.Membership)
class MembershipAdmin(ReferenceAdmin):
    list_display = ("jurisdiction", "region", "joined_on", "left_on")
    list_filter = ("region",)
    search_fields = ("jurisdiction__name_zh", "jurisdiction__code")
    list_select_related = ("jurisdiction", "region")


class SettlingLevelForm(forms.ModelForm):
    class Meta:
        model = models.SettlingLevel
        fields = ("region", "level", "effective_from")

    def _get_validation_exclusions(self):
        """A level not yet in force is set again on its date by the service (the row is replaced), so the
        one-level-per-day constraint is the service's to keep, not the form's."""
        return {*super()._get_validation_exclusions(), "effective_from"}

    def clean(self):
        data = super().clean()
        if data.get("level") and data.get("effective_from"):
            try:
                settling.check_change(data["level"], data["effective_from"])
            except DomainError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


@admin.register(models.SettlingLevel)
class SettlingLevelAdmin(ReferenceAdmin):
    """Everyone reads the history; the region's coordinator adds a level effective from a future date through
    `settling.set_settling_level` (audited; a level not yet in force may be set again). Rows are never edited
    or deleted: postings already made keep their accounts."""

    form = SettlingLevelForm
    list_display = ("region", "level", "effective_from")
    list_filter = ("region", "level")
    list_select_related = ("region",)

    def has_add_permission(self, request, obj=None):
        return is_staff(request) and bool(get_principal(request.user).coordinator_regions)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = models.Region.objects.filter(pk__in=get_principal(request.user).coordinator_regions)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        try:
            saved = settling.set_settling_level(request.user, obj.region, level=obj.level,
                                                effective_from=obj.effective_from)
        except DomainError as exc:
            raise ValidationError(exc.message) from exc
        obj.pk = saved.pk


class HeadcountInline(ScopedTabularInline):
    model = models.Headcount
    public = True


@admin.register(models.Agency)
class AgencyAdmin(ReferenceAdmin):  # the public agency directory
    list_display = ("name_zh", "code", "jurisdiction", "is_affairs_bureau", "total")
    list_filter = ("is_affairs_bureau", "jurisdiction__level", "jurisdiction")
    search_fields = ("name_zh", "name_en", "code", "address")
    list_select_related = ("jurisdiction",)
    fields = ("jurisdiction", "code", "name_zh", "name_en", "is_affairs_bureau", "address", "location")
    inlines = [HeadcountInline]

    def get_fields(self, request, obj=None):
        """Superusers place the agency on the offline map; others read its point as GeoJSON."""
        if self.has_change_permission(request, obj):
            return self.fields
        return (*self.fields[:-1], "location_geojson")

    def get_readonly_fields(self, request, obj=None):
        return () if self.has_change_permission(request, obj) else ("location_geojson",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("headcounts")

    @admin.display(description=_("headcount"))
    def total(self, obj):
        return obj.total_headcount

    @admin.display(description=_("address point (GeoJSON)"))
    def location_geojson(self, obj):
        return geojson(obj.location)


class RoleBindingForm(forms.ModelForm):
    """Runs the grant (new binding) or the revocation (existing one) through the roles service while the
    form is cleaned, so a refusal shows on the form; the admin's own transaction wraps it."""

    acting_user = None

    class Meta:
        model = models.RoleBinding
        fields = ("user", "role", "region", "jurisdiction", "agency", "reason", "ends_on", "revoke_reason")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            with transaction.atomic():
                if self.instance.pk:
                    self.saved = roles.revoke_role(self.acting_user, self.instance, reason=data.get("revoke_reason"))
                else:
                    self.saved = roles.grant_role(
                        self.acting_user, grantee=data["user"], role=data["role"], reason=data.get("reason"),
                        ends_on=data.get("ends_on"), region=data.get("region"),
                        jurisdiction=data.get("jurisdiction"), agency=data.get("agency"))
        except DomainError as exc:
            raise ValidationError(exc.message) from exc
        return data


@admin.register(models.RoleBinding)
class RoleBindingAdmin(ScopedModelAdmin):
    """Grants and revocations go through the roles service (scope rules, reason, audit): adding a binding
    grants it; on an existing binding only a revocation reason can be entered, which revokes it."""

    form = RoleBindingForm
    list_display = ("user", "role", "region", "jurisdiction", "agency", "granted_by", "ends_on", "revoked_at")
    list_filter = ("role", "region", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "jurisdiction__name_zh", "agency__name_zh")
    list_select_related = ("user", "region", "jurisdiction", "agency", "granted_by")
    raw_id_fields = ("user", "agency")

    def has_add_permission(self, request, obj=None):
        return is_staff(request) and (request.user.is_superuser or bool(roles.grantable_roles(request.user)))

    def has_change_permission(self, request, obj=None):
        return self.has_add_permission(request) and (obj is None or obj.revoked_at is None)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "role", "region", "jurisdiction", "agency", "reason", "ends_on")
        return ("user", "role", "region", "jurisdiction", "agency", "reason", "ends_on", "granted_by",
                "granted_at", "revoked_at", "revoked_by", "revoke_reason")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ("user", "role", "region", "jurisdiction", "agency", "reason", "ends_on", "granted_by",
                 "granted_at", "revoked_at", "revoked_by")
        return fixed + (("revoke_reason",) if obj.revoked_at else ())

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.acting_user = request.user
        return form

    def save_model(self, request, obj, form, change):
        obj.pk = form.saved.pk  # saved by the service in RoleBindingForm.clean

    def save_related(self, request, form, formsets, change):
        """Nothing related to save; the service saved the binding."""


@admin.register(models.ApiToken)
class ApiTokenAdmin(ScopedModelAdmin):
    """Tokens are created through GraphQL (`createApiToken`: the key is shown once there); here they are
    listed and revoked."""

    list_display = ("name", "prefix", "jurisdiction", "can_write", "created_at", "expires_at", "last_used_at",
                    "revoked_at")
    list_filter = ("can_write", "jurisdiction", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "jurisdiction__name_zh")
    list_select_related = ("jurisdiction",)
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("revoke the selected tokens"))
    def revoke(self, request, queryset):
        done = 0
        for token in queryset:
            try:
                with transaction.atomic():
                    tokens.revoke_token(request.user, token)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{token}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, _("revoked: %(n)d") % {"n": done}, messages.SUCCESS)


class NormInline(ScopedTabularInline):
    def scope(self, request, queryset):  # a norm is visible with its standard set
        return queryset.filter(standard_set__in=restrict(models.StandardSet.objects.all(), request.user))


class OfficeNormInline(NormInline):
    model = models.OfficeSpaceNorm
    fields = readonly_fields = ("level", "rank", "area_m2")


class ClassNormInline(NormInline):
    model = models.AssetClassNorm
    fields = readonly_fields = ("class_code", "min_service_years", "price_cap", "quantity_per_head",
                                "compensation_rate")


class RentNormInline(NormInline):
    model = models.RentNorm
    fields = readonly_fields = ("jurisdiction", "rent_per_m2_month")


class StandardSetForm(forms.ModelForm):
    class Meta:
        model = models.StandardSet
        fields = ("region", "effective_from", *standards.SCALAR_FIELDS)

    def clean(self):
        data = super().clean()
        effective = data.get("effective_from") if self.instance.pk is None else self.instance.effective_from
        if effective is not None and effective <= timezone.localdate():
            raise ValidationError(_("Standards in force are never changed; create a version effective later."))
        return data


@admin.register(models.StandardSet)
class StandardSetAdmin(ScopedModelAdmin):
    """Coordinators add a version (copied from the set then in force, via the standards service) and change
    the fields of versions not yet in force; norms of a future version are edited with the GraphQL mutation
    `editFutureStandard` and shown here read-only."""

    form = StandardSetForm
    list_display = ("region", "effective_from", "title", "allocation_mode", "approval_working_days")
    list_filter = ("region", "allocation_mode")
    search_fields = ("title", "source")
    date_hierarchy = "effective_from"
    list_select_related = ("region",)
    inlines = [OfficeNormInline, ClassNormInline, RentNormInline]

    def _may_edit(self, request, region_id):
        return allows(get_principal(request.user), "standards.edit", Scope(region_id=region_id))

    def has_add_permission(self, request, obj=None):
        return is_staff(request) and bool(get_principal(request.user).coordinator_regions)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return self.has_add_permission(request)
        return obj.is_editable() and self._may_edit(request, obj.region_id)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ("region", "effective_from") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region" and not request.user.is_superuser:
            kwargs["queryset"] = models.Region.objects.filter(pk__in=get_principal(request.user).coordinator_regions)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in standards.SCALAR_FIELDS if name in form.cleaned_data}
        try:
            if change:
                saved = standards.edit_future_standard(request.user, obj, fields=fields)
            else:
                saved = standards.create_standard_version(request.user, obj.region, obj.effective_from,
                                                          fields=fields)
        except DomainError as exc:
            raise ValidationError(exc.message) from exc
        obj.pk, obj.created_at = saved.pk, saved.created_at

    def save_related(self, request, form, formsets, change):
        """Norms are read-only here (copied by the service); nothing else to save."""
        for formset in formsets:  # what the change message reads after a save
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(models.AccessRequest)
class AccessRequestAdmin(ScopedModelAdmin):
    """Listed here; asked for and decided on the workbench roles page or with GraphQL (the access service)."""

    list_display = ("requester", "role", "region", "jurisdiction", "agency", "status", "due_at", "decided_by")
    list_filter = ("status", "role")
    search_fields = ("requester__username", "reason")
    list_select_related = ("requester", "region", "jurisdiction", "agency", "decided_by")


@admin.register(models.EmergencyStop)
class EmergencyStopAdmin(ScopedModelAdmin):
    """Listed here; stopped and lifted with GraphQL (`stopJurisdiction`, `liftEmergencyStop`, the emergency service)."""

    list_display = ("jurisdiction", "started_at", "started_by", "reason", "sessions_ended", "lifted_at", "lifted_by")
    list_filter = (("lifted_at", admin.EmptyFieldListFilter),)
    list_select_related = ("jurisdiction", "started_by", "lifted_by")
