"""Ledger admin: everything read-only (postings come only from services; the database refuses edits) and,
for non-superusers, restricted by the permission layer like every other admin."""
from django.contrib import admin

from regions.admin_base import ScopedModelAdmin, ScopedTabularInline

from .models import (
    Account,
    ClosingBalance,
    CompensationBreakdown,
    JournalTransaction,
    Leg,
    PaymentInstruction,
    SettlementPeriod,
)


class LegInline(ScopedTabularInline):
    model = Leg
    fields = ("account", "side", "amount")
    readonly_fields = fields


@admin.register(Account)
class AccountAdmin(ScopedModelAdmin):
    list_display = ("code", "kind", "region", "jurisdiction")
    list_filter = ("kind", "region")


@admin.register(JournalTransaction)
class JournalTransactionAdmin(ScopedModelAdmin):
    list_display = ("id", "date", "kind", "description", "posted", "period", "transfer", "reverses")
    list_filter = ("kind", "posted", "region")
    inlines = [LegInline]


@admin.register(Leg)
class LegAdmin(ScopedModelAdmin):
    list_display = ("transaction", "account", "side", "amount")
    list_select_related = ("transaction", "account")


@admin.register(CompensationBreakdown)
class CompensationBreakdownAdmin(ScopedModelAdmin):
    list_display = ("transfer", "total", "residual_amount", "handling_fee", "transport", "transaction")


@admin.register(SettlementPeriod)
class SettlementPeriodAdmin(ScopedModelAdmin):
    list_display = ("region", "start", "end", "status", "closed_at", "closed_by")
    list_filter = ("status", "region")


@admin.register(PaymentInstruction)
class PaymentInstructionAdmin(ScopedModelAdmin):
    list_display = ("period", "payer", "payee", "amount", "transaction", "confirmed_at")


@admin.register(ClosingBalance)
class ClosingBalanceAdmin(ScopedModelAdmin):
    list_display = ("period", "account", "balance")
