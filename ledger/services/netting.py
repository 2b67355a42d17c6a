"""Netting: turn signed balances (+ owes, − is owed; summing to zero) into payment instructions.

Greedy largest-debtor / largest-creditor matching: every payment zeroes at least one party, so with n
non-zero parties there are at most n − 1 payments, and the total paid equals Σ positive balances, which
never exceeds the gross value posted.
"""
from decimal import Decimal


def net(balances):
    """`balances`: {party: Decimal}; returns [(payer, payee, amount)] that bring every balance to zero."""
    if sum(balances.values(), Decimal(0)) != 0:
        raise ValueError("balances must sum to zero")
    debtors = {k: v for k, v in balances.items() if v > 0}
    creditors = {k: -v for k, v in balances.items() if v < 0}
    payments = []
    while debtors:
        payer = max(debtors, key=lambda k: (debtors[k], str(k)))
        payee = max(creditors, key=lambda k: (creditors[k], str(k)))
        amount = min(debtors[payer], creditors[payee])
        payments.append((payer, payee, amount))
        for side, party in ((debtors, payer), (creditors, payee)):
            side[party] -= amount
            if side[party] == 0:
                del side[party]
    return payments
