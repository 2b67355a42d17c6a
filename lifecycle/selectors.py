"""Reads of the lifecycle, each through the permission layer."""
from lifecycle.models import Disposal, Loan, LoanOffer, PurchaseRequest, Want, WebhookDelivery, WebhookEndpoint
from regions.permissions import restrict


def disposals_for(user, *, status=None):
    qs = restrict(Disposal.objects.select_related("asset__asset_class", "agency", "jurisdiction"), user)
    return qs.filter(status=status) if status else qs


def wants_for(user, *, status=None):
    qs = restrict(Want.objects.select_related("agency__jurisdiction", "asset_class"), user)
    return qs.filter(status=status) if status else qs


def purchases_for(user):
    return restrict(PurchaseRequest.objects.select_related("agency__jurisdiction", "asset_class", "standard_set",
                                                           "region"), user)


def loan_offers_for(user):
    return restrict(LoanOffer.objects.select_related("asset__asset_class", "agency__jurisdiction"), user)


def loans_for(user):
    return restrict(Loan.objects.select_related("offer__asset__asset_class", "lender__jurisdiction",
                                                "borrower__jurisdiction"), user)


def webhooks_for(user):
    return restrict(WebhookEndpoint.objects.select_related("jurisdiction"), user)


def webhook_deliveries_for(user):
    return restrict(WebhookDelivery.objects.select_related("endpoint__jurisdiction"), user)
