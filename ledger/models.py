"""Double-entry compensation ledger after django-hordak: Account / JournalTransaction / Leg.

One "compensation" account per (region, settling jurisdiction: the level the region settles at, see
`regions.SettlingLevel`) with a signed balance (Σdebit − Σcredit):
positive = the jurisdiction owes the region (it received more than it gave), negative = it is owed.
One "clearing" account per region carries settlement payments and returns to zero after each one.
Invariants held by the database (see migrations/0002_invariants.py): positive amounts, append-only
legs, posted transactions immutable, balanced on posting (and at commit on PostgreSQL), no posting
into a closed period.
"""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from regions.scope import Scope

money = {"max_digits": 14, "decimal_places": 2}


class Account(models.Model):
    """Kinds: a settling jurisdiction's compensation account, the region's clearing account, and the two
    accounts of a jurisdiction's disposal proceeds (政府会计制度: 借 银行存款 贷 应缴财政款 — cash received
    from disposing of its assets, owed to its treasury)."""

    class Kind(models.TextChoices):
        COMPENSATION = "compensation", _("compensation")
        CLEARING = "clearing", _("region clearing")
        PROCEEDS = "proceeds", _("disposal proceeds received")
        TREASURY_DUE = "treasury_due", _("due to the treasury")

    region = models.ForeignKey("regions.Region", models.PROTECT, related_name="ledger_accounts",
                               verbose_name=_("region"))
    jurisdiction = models.ForeignKey("regions.Jurisdiction", models.PROTECT, null=True, blank=True,
                                     related_name="ledger_accounts", verbose_name=_("jurisdiction"))
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)

    SCOPE_LOOKUPS = {"jurisdiction": "jurisdiction_id"}

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["region_id", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "jurisdiction"], condition=Q(kind="compensation"),
                                    name="one_compensation_account"),
            models.UniqueConstraint(fields=["region"], condition=Q(kind="clearing"), name="one_clearing_account"),
            models.UniqueConstraint(fields=["region", "jurisdiction", "kind"],
                                    condition=Q(kind__in=["proceeds", "treasury_due"]),
                                    name="one_proceeds_account_per_kind"),
            models.CheckConstraint(condition=Q(kind__in=["compensation", "proceeds", "treasury_due"],
                                             jurisdiction__isnull=False)
                                   | Q(kind="clearing", jurisdiction__isnull=True), name="account_kind_scope"),
        ]

    def __str__(self):
        return self.code

    @staticmethod
    def extra_visibility(principal):
        return Q(jurisdiction__isnull=True, region_id__in=principal.coordinator_regions | principal.auditor_regions)


class SettlementPeriod(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    region = models.ForeignKey("regions.Region", models.PROTECT, related_name="settlement_periods",
                               verbose_name=_("region"))
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")

    SCOPE_LOOKUPS = {"region": "region_id"}

    class Meta:
        verbose_name = _("settlement period")
        verbose_name_plural = _("settlement periods")
        ordering = ["region_id", "start"]
        constraints = [
            models.UniqueConstraint(fields=["region", "start"], name="period_start_once"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="period_dates_ordered"),
        ]

    def __str__(self):
        return f"{self.region} {self.start}–{self.end}"

    def permission_scope(self):
        return Scope(region_id=self.region_id)


class JournalTransaction(models.Model):
    class Kind(models.TextChoices):
        COMPENSATION = "compensation", pgettext_lazy("transaction", "compensation")
        RENT = "rent", _("rent")
        LOAN_FEE = "loan_fee", _("loan fee")
        DISPOSAL = "disposal", _("disposal proceeds")
        SETTLEMENT = "settlement", _("settlement")
        REVERSAL = "reversal", _("reversal")

    region = models.ForeignKey("regions.Region", models.PROTECT, related_name="+", verbose_name=_("region"))
    period = models.ForeignKey(SettlementPeriod, models.PROTECT, related_name="transactions",
                               verbose_name=_("period"))
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=300)
    key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    reverses = models.OneToOneField("self", models.PROTECT, null=True, blank=True, related_name="reversed_by",
                                    verbose_name=_("reverses"))
    transfer = models.ForeignKey("exchange.Transfer", models.PROTECT, null=True, blank=True,
                                 related_name="ledger_transactions", verbose_name=_("transfer"))
    posted = models.BooleanField(_("posted"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    SCOPE_LOOKUPS = {"jurisdiction": "legs__account__jurisdiction_id"}
    SCOPE_NEEDS_DISTINCT = True

    class Meta:
        verbose_name = _("journal transaction")
        verbose_name_plural = _("journal transactions")
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer"], condition=Q(kind="compensation"),
                                    name="one_compensation_per_transfer"),
            models.CheckConstraint(condition=Q(kind="reversal", reverses__isnull=False)
                                   | (~Q(kind="reversal") & Q(reverses__isnull=True)), name="reversal_has_original"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} {self.date}"


class Leg(models.Model):
    class Side(models.TextChoices):
        DEBIT = "debit", _("debit")
        CREDIT = "credit", _("credit")

    transaction = models.ForeignKey(JournalTransaction, models.PROTECT, related_name="legs",
                                    verbose_name=_("transaction"))
    account = models.ForeignKey(Account, models.PROTECT, related_name="legs", verbose_name=_("account"))
    side = models.CharField(_("side"), max_length=6, choices=Side.choices)
    amount = models.DecimalField(_("amount (CNY)"), **money)

    SCOPE_LOOKUPS = {"jurisdiction": "account__jurisdiction_id"}

    class Meta:
        verbose_name = _("leg")
        verbose_name_plural = _("legs")
        ordering = ["transaction_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="leg_amount_positive"),
            models.CheckConstraint(condition=Q(side__in=["debit", "credit"]), name="leg_side_valid"),
        ]

    def __str__(self):
        return f"{self.get_side_display()} {self.account} {self.amount}"

    @staticmethod
    def extra_visibility(principal):
        return Q(account__jurisdiction__isnull=True,
                 account__region_id__in=principal.coordinator_regions | principal.auditor_regions)


SAVINGS_DEFINITION = (
    "节约 = 调入方免于购置的价值（实际接收数量 × 该类资产配置标准单价上限，无上限时按原值）− 支付的补偿；"
    "在交接完成时按实际接收数量计；办公用房不计。 Savings = value the receiver did not have to buy (units "
    "received × the standard's price cap for the class, or their original value where there is no cap) − "
    "compensation paid; counted on the units received, at completion; office space is not counted.")


class CompensationBreakdown(models.Model):
    """How each yuan of a transfer's compensation was reached (one per transfer). Figures are stored
    exactly as computed; `total` is the only rounded figure (CNY, half-up, once)."""

    transfer = models.OneToOneField("exchange.Transfer", models.PROTECT, related_name="compensation",
                                    verbose_name=_("transfer"))
    transaction = models.OneToOneField(JournalTransaction, models.PROTECT, null=True, blank=True,
                                       related_name="breakdown", verbose_name=_("transaction"))
    standard_set = models.ForeignKey("regions.StandardSet", models.PROTECT, related_name="+")
    giver_jurisdiction = models.ForeignKey("regions.Jurisdiction", models.PROTECT, related_name="+")
    receiver_jurisdiction = models.ForeignKey("regions.Jurisdiction", models.PROTECT, related_name="+")
    residual_amount = models.DecimalField(_("residual value × rate (CNY)"), max_digits=24, decimal_places=10,
                                          default=0)
    handling_fee = models.DecimalField(_("handling fee (CNY)"), **money, default=0)
    transport = models.DecimalField(_("transport (CNY)"), max_digits=24, decimal_places=10, default=0)
    total = models.DecimalField(_("compensation (CNY)"), **money)
    value_not_bought = models.DecimalField(_("value not bought (CNY)"), **money, null=True, blank=True)
    savings = models.DecimalField(_("savings (CNY)"), **money, null=True, blank=True,
                                  help_text=SAVINGS_DEFINITION)
    details = models.JSONField(_("breakdown"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    # The settling bureaus (and those above them) and the two agencies of the transfer.
    SCOPE_LOOKUPS = {"jurisdiction": ["giver_jurisdiction_id", "receiver_jurisdiction_id"],
                     "agency": ["transfer__giver_id", "transfer__receiver_id"]}

    class Meta:
        verbose_name = _("compensation breakdown")
        verbose_name_plural = _("compensation breakdowns")

    def __str__(self):
        return f"transfer #{self.transfer_id}: {self.total}"


class PaymentInstruction(models.Model):
    """A frozen payment of a closed period: payer's account → payee's account. Confirmed once the
    settlement transaction referencing it is posted."""

    period = models.ForeignKey(SettlementPeriod, models.PROTECT, related_name="instructions",
                               verbose_name=_("period"))
    payer = models.ForeignKey(Account, models.PROTECT, related_name="+", verbose_name=_("payer"))
    payee = models.ForeignKey(Account, models.PROTECT, related_name="+", verbose_name=_("payee"))
    amount = models.DecimalField(_("amount (CNY)"), **money)
    transaction = models.OneToOneField(JournalTransaction, models.PROTECT, null=True, blank=True,
                                       related_name="instruction", verbose_name=_("settlement transaction"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                     related_name="+")
    duties = GenericRelation("regions.Duty", content_type_field="subject_type", object_id_field="subject_id")

    SCOPE_LOOKUPS = {"jurisdiction": ["payer__jurisdiction_id", "payee__jurisdiction_id"]}

    class Meta:
        verbose_name = _("payment instruction")
        verbose_name_plural = _("payment instructions")
        ordering = ["period_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="instruction_amount_positive"),
            models.CheckConstraint(condition=~Q(payer=models.F("payee")), name="instruction_two_parties"),
        ]

    def __str__(self):
        return f"{self.payer} → {self.payee} {self.amount}"

    def permission_scope(self):
        return Scope(region_id=self.period.region_id)


class ClosingBalance(models.Model):
    period = models.ForeignKey(SettlementPeriod, models.PROTECT, related_name="closing_balances",
                               verbose_name=_("period"))
    account = models.ForeignKey(Account, models.PROTECT, related_name="+", verbose_name=_("account"))
    balance = models.DecimalField(_("balance (CNY, + owes)"), **money)

    SCOPE_LOOKUPS = {"jurisdiction": "account__jurisdiction_id"}

    class Meta:
        verbose_name = _("closing balance")
        verbose_name_plural = _("closing balances")
        constraints = [models.UniqueConstraint(fields=["period", "account"], name="closing_balance_once")]

    def __str__(self):
        return f"{self.account} {self.balance}"
