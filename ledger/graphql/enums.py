"""Domain-named GraphQL enums for the ledger's closed sets."""
from api.scalars import domain_enum
from ledger import models

AccountKind = domain_enum("AccountKind", models.Account.Kind, "账户类别 Kind of a ledger account.")
SettlementPeriodStatus = domain_enum("SettlementPeriodStatus", models.SettlementPeriod.Status,
                                     "结算期状态 Status of a settlement period.")
JournalKind = domain_enum("JournalKind", models.JournalTransaction.Kind, "记账类别 Kind of a journal transaction.")
LegSide = domain_enum("LegSide", models.Leg.Side, "借贷方向 Side of a ledger leg.")
