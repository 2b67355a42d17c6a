"""Ledger admin: everything read-only (postings come only from services; the database refuses edits)."""
from django.contrib import admin

from .models import (
    Account,
    ClosingBalance,
    CompensationBreakdown,
    JournalTransaction,
    Leg,
    PaymentInstruction,
    SettlementPeriod,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LegInline(admin.TabularInline):
    model = Leg
    fields = ("account", "side", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "kind", "region", "jurisdiction")
    list_filter = ("kind", "region")


@admin.register(JournalTransaction)
class JournalTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "date", "kind", "description", "posted", "period", "transfer", "reverses")
    list_filter = ("kind", "posted", "region")
    inlines = [LegInline]


@admin.register(Leg)
class LegAdmin(ReadOnlyAdmin):
    list_display = ("transaction", "account", "side", "amount")
    list_select_related = ("transaction", "account")


@admin.register(CompensationBreakdown)
class CompensationBreakdownAdmin(ReadOnlyAdmin):
    list_display = ("transfer", "total", "residual_amount", "handling_fee", "transport", "transaction")


@admin.register(SettlementPeriod)
class SettlementPeriodAdmin(ReadOnlyAdmin):
    list_display = ("region", "start", "end", "status", "closed_at", "closed_by")
    list_filter = ("status", "region")


@admin.register(PaymentInstruction)
class PaymentInstructionAdmin(ReadOnlyAdmin):
    list_display = ("period", "payer", "payee", "amount", "transaction", "confirmed_at")


@admin.register(ClosingBalance)
class ClosingBalanceAdmin(ReadOnlyAdmin):
    list_display = ("period", "account", "balance")
