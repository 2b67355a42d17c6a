"""Purchase check (先调剂后购置, reallocate before buying). Before an agency buys, it files the purchase (class,
quantity, unit price, reason, the items it would replace). The service checks, in order and with reasons:

1. the standard in force: the class's price cap per item and its quantity cap per head (财资〔2016〕27号);
2. the minimum service life of the items it would replace: not reached → refused, unless they are damaged
   beyond repair (with the assessment);
3. the warehouse: idle items of the class that the agency may request, within the region's search radius.

Any breach of 1 or 2 refuses the purchase. Otherwise, if the warehouse holds matching items, the answer is
"take these instead" with the listings, and buying needs a regional coordinator's exception with a
justification; if not, the agency may buy. The answer is kept as checked and printed as a PDF."""
import secrets
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from exchange.models import Asset
from exchange.services.common import locked, region_for, require_text
from exchange.services.screening import HELD_ASSET_STATUSES
from exchange.services.service_life import minimum_life
from kernel import audit
from kernel.errors import InvalidState, ValidationFailed
from kernel.money import cny
from lifecycle.models import PurchaseRequest
from lifecycle.services.wants import idle_items_for
from regions.models import Region
from regions.permissions import Scope, require
from regions.services.standards import standard_in_force

NORM = "财资〔2016〕27号"


def _price(value):
    try:
        price = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        price = None
    if price is None or not price.is_finite() or price < 0 or price >= Decimal("1e12"):
        raise ValidationFailed(_("Enter a unit price of 0 or more (CNY)."), field="unit_price")
    return cny(price)


def _plain(value):
    """5000.00 -> 5000, 0.50 -> 0.5, 300.0 -> 300."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _check(name, ok, code, render):
    """One line of the answer, its message in both languages (the PDF prints both; the API picks one)."""
    texts = {}
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            texts[lang] = str(render())
    return {"check": name, "ok": ok, "code": code, "message_zh": texts["zh-hans"], "message_en": texts["en"]}


def _standard_checks(standard_set, agency, asset_class, quantity, unit_price, replaced):
    norm = standard_set.class_norms.filter(class_code=asset_class.code).first()
    if norm is None:
        return [_check("standard", True, "no_norm", lambda: _("The standard in force sets no norm for class "
                                                              "%(code)s.") % {"code": asset_class.code})]
    checks = []
    if norm.price_cap is not None and unit_price > norm.price_cap:
        checks.append(_check("price_cap", False, "price_cap",
                             lambda: _("Unit price %(price)s CNY exceeds the price cap of %(cap)s CNY for class "
                                       "%(code)s (%(norm)s).") % {"price": _plain(unit_price),
                                                                  "cap": _plain(norm.price_cap),
                                                 "code": asset_class.code, "norm": NORM}))
    else:
        checks.append(_check("price_cap", True, "", lambda: _("Unit price within the price cap.")
                             if norm.price_cap is not None else _("The class has no price cap.")))
    if norm.quantity_per_head is not None:
        headcount = agency.total_headcount
        cap = norm.quantity_per_head * headcount
        held = (agency.assets.filter(asset_class=asset_class, status__in=HELD_ASSET_STATUSES)
                .aggregate(n=Sum("quantity"))["n"] or 0)
        after = held - sum(a.quantity for a in replaced) + quantity
        ok = after <= cap
        checks.append(_check("quota_per_head", ok, "" if ok else "quota_per_head",
                             lambda: _("%(held)s held − %(replaced)s replaced + %(quantity)s bought = %(after)s, quota "
                               "%(cap)s (%(headcount)s staff × %(per)s per head).")
                             % {"held": held, "replaced": sum(a.quantity for a in replaced), "quantity": quantity,
                                "after": after, "cap": _plain(cap), "headcount": headcount,
                                "per": _plain(norm.quantity_per_head)}))
    return checks


def _life_checks(standard_set, replaced, today, damaged):
    checks = []
    for asset in replaced:
        rule = minimum_life(standard_set, asset.asset_class.code, asset.acquired_on)
        ok = rule.allows(today, damaged_beyond_repair=damaged)
        values = {"item": asset.description, "acquired": f"{asset.acquired_on:%Y-%m-%d}", "norm": NORM,
                  "reached": f"{rule.reached_on:%Y-%m-%d}" if rule.reached_on else ""}

        def message(rule=rule, values=values):
            if rule.reached(today):
                return _("%(item)s (acquired %(acquired)s) has reached its minimum service life.") % values
            if damaged:
                return _("%(item)s (acquired %(acquired)s) reaches its minimum service life only on %(reached)s, "
                         "but is damaged beyond repair.") % values
            return _("%(item)s (acquired %(acquired)s) reaches its minimum service life only on %(reached)s "
                     "(%(norm)s): it may not be replaced yet.") % values

        checks.append(_check("min_service_life", ok, "" if ok else "min_service_life", message))
    return checks


def _new_code(today):
    return f"GZ{today:%Y%m%d}{secrets.token_hex(3).upper()}"


@transaction.atomic
def file_purchase(user, *, agency, asset_class, quantity, unit_price, reason, replaces=(), damaged_beyond_repair=False,
                  damage_note="", region_id=None):
    """Check a purchase before it is made and record the answer (see the module docstring)."""
    require(user, "purchase.check", Scope(jurisdiction_id=agency.jurisdiction_id, agency_id=agency.pk))
    if quantity is None or quantity < 1:
        raise ValidationFailed(_("The quantity must be at least 1."), field="quantity")
    unit_price = _price(unit_price)
    reason = require_text(reason, "reason", _("A purchase needs a reason."))
    order = {pk: i for i, pk in enumerate(replaces or ())}
    replaced = sorted(Asset.objects.filter(pk__in=list(order)).select_related("asset_class"), key=lambda a: order[a.pk])
    if len(replaced) != len(set(replaces or ())) or any(a.agency_id != agency.pk for a in replaced):
        raise ValidationFailed(_("The items replaced must be asset records of the agency."), field="replaces")
    if any(a.asset_class_id != asset_class.pk for a in replaced):
        raise ValidationFailed(_("The items replaced must be of the class bought."), field="replaces")
    if damaged_beyond_repair:
        damage_note = require_text(damage_note, "damage_note", _("Describe the damage that makes repair impossible."))
    region = Region.objects.get(pk=region_for(agency.jurisdiction, region_id))
    today, now = timezone.localdate(), timezone.now()
    standards = standard_in_force(region, today)
    checks = _standard_checks(standards, agency, asset_class, quantity, unit_price, replaced)
    checks += _life_checks(standards, replaced, today, damaged_beyond_repair)
    radius = standards.purchase_search_radius_km
    found = idle_items_for(agency, asset_class, within_km=radius, now=now)
    matches = [{"listing": listing.pk, "title": listing.title, "agency": listing.agency.name_zh, "km": str(km),
                "available": listing.quantity_available, "condition": listing.asset.condition,
                "window_ends_at": listing.region_window_ends_at.isoformat()} for listing, km in found]
    offered = sum(m["available"] for m in matches)
    checks.append(_check("warehouse", not matches, "warehouse_holds" if matches else "",
                         lambda: _("The warehouse holds %(n)s matching idle units within %(km)s km.")
                         % {"n": offered, "km": _plain(radius)} if matches else
                         _("No matching idle item within %(km)s km.") % {"km": _plain(radius)}))
    if any(not c["ok"] for c in checks if c["check"] != "warehouse"):
        outcome = PurchaseRequest.Outcome.REFUSED
    elif matches:
        outcome = PurchaseRequest.Outcome.TAKE_INSTEAD
    else:
        outcome = PurchaseRequest.Outcome.MAY_BUY
    purchase = PurchaseRequest.objects.create(
        code=_new_code(today), agency=agency, region=region, asset_class=asset_class, quantity=quantity,
        unit_price=unit_price, reason=reason, damaged_beyond_repair=bool(damaged_beyond_repair),
        damage_note=damage_note or "", standard_set=standards, checks=checks, matches=matches, outcome=outcome,
        created_by=user)
    purchase.replaces.set(replaced)
    audit.record(user, "purchase.checked", purchase, after={
        "code": purchase.code, "class": asset_class.code, "quantity": quantity, "unit_price": unit_price,
        "outcome": outcome, "failed": [c["code"] for c in checks if not c["ok"]],
        "listings": [m["listing"] for m in matches], "standard_set": standards.pk},
        region=region, jurisdiction=agency.jurisdiction)
    return purchase


@transaction.atomic
def grant_exception(user, purchase, *, justification):
    """A regional coordinator lets an agency buy although the warehouse could serve it, with a reason."""
    require(user, "purchase.exception", Scope(region_id=purchase.region_id))
    purchase = locked(PurchaseRequest.objects.select_related("region", "agency__jurisdiction")).get(pk=purchase.pk)
    if purchase.outcome != PurchaseRequest.Outcome.TAKE_INSTEAD:
        raise InvalidState(_("Only a purchase answered “take these instead” needs an exception."),
                           field="purchase_id")
    justification = require_text(justification, "justification", _("An exception needs a justification."))
    purchase.outcome = PurchaseRequest.Outcome.EXCEPTION_GRANTED
    purchase.exception_justification, purchase.exception_by = justification, user
    purchase.exception_at = timezone.now()
    purchase.save(update_fields=["outcome", "exception_justification", "exception_by", "exception_at"])
    audit.record(user, "purchase.exception_granted", purchase, before={"outcome": "take_instead"},
                 after={"outcome": purchase.outcome, "justification": justification},
                 region=purchase.region, jurisdiction=purchase.agency.jurisdiction)
    return purchase
