"""The admin reads through the same permission layer as GraphQL: every ModelAdmin (and inline) of our apps
derives from regions/admin_base.py, and per role each admin shows the reads-matrix object of jurisdiction A
exactly to the principals of its row (tests/reads_matrix_cases.py)."""
import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse

from regions.admin_base import ScopedModelAdmin, ScopeMixin
from tests.reads_matrix_cases import ROWS, build
from tests.test_schema_scoped import model_types

APPS = {"regions", "exchange", "ledger", "reports", "kernel", "notifications", "evaluation", "lifecycle"}
ROLES = ("staff_a", "bureau_a", "staff_b", "bureau_b", "coordinator", "auditor", "bureau_nj", "staff_nj",
         "outsider")
BYSTANDERS = ("bureau_nj", "staff_nj", "outsider")


def our_admins():
    return {model: model_admin for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in APPS}


def test_every_admin_of_our_apps_uses_the_scoped_base():
    loose = [type(a).__name__ for a in our_admins().values() if not isinstance(a, ScopedModelAdmin)]
    loose += [inline.__name__ for a in our_admins().values() for inline in a.inlines
              if not issubclass(inline, ScopeMixin)]
    assert not loose, f"admins not derived from regions.admin_base: {loose}"


@pytest.fixture
def world(region_world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    world = build(region_world)
    get_user_model().objects.filter(username__in=ROLES).update(is_staff=True)
    world["staff_users"] = {name: get_user_model().objects.get(username=name) for name in ROLES}
    return world


def _queryset(model_admin, user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return model_admin.get_queryset(request)


def test_each_admin_shows_the_matrix_object_exactly_to_its_row(world):
    rows = {cls._meta.model: ROWS[name] for name, cls in model_types().items() if name in ROWS}
    checked, wrong = 0, []
    for model, model_admin in our_admins().items():
        row = rows.get(model)
        if row is None:
            continue
        for who, user in world["staff_users"].items():
            seen = _queryset(model_admin, user).filter(pk=world[row.obj].pk).exists()
            checked += 1
            if seen != (who in row.sees):
                wrong.append(f"{model.__name__} {'seen' if seen else 'hidden'} for {who}")
    assert checked >= 12 * len(ROLES)
    assert not wrong, "; ".join(wrong)


def test_bystanders_see_nothing_of_the_ledger_or_the_trail(world):
    from kernel.models import AuditEvent
    from ledger.models import ClosingBalance, CompensationBreakdown, JournalTransaction

    admins, city_a = our_admins(), world["city_a"]
    of_a = {JournalTransaction: {"legs__account__jurisdiction": city_a},
            CompensationBreakdown: {"giver_jurisdiction": city_a}, ClosingBalance: {"account__jurisdiction": city_a},
            AuditEvent: {"transfer": world["transfer"]}}
    for model, lookup in of_a.items():
        assert model.objects.filter(**lookup).exists()
        for who in BYSTANDERS:
            assert not _queryset(admins[model], world["staff_users"][who]).filter(**lookup).exists(), (model, who)
        assert _queryset(admins[model], world["staff_users"]["auditor"]).filter(**lookup).exists()


def test_admin_pages_of_another_jurisdiction_are_not_readable(world, client):
    event = world["event"]
    client.force_login(world["staff_users"]["bureau_nj"])
    listing = client.get(reverse("admin:kernel_auditevent_changelist"))
    assert listing.status_code == 200 and event.hash not in listing.content.decode()
    assert client.get(reverse("admin:kernel_auditevent_change", args=[event.pk])).status_code == 302
    account = world["account_a"]
    accounts = client.get(reverse(f"admin:{account._meta.app_label}_account_changelist"))
    assert accounts.status_code == 200 and account.code not in accounts.content.decode()
    client.force_login(world["staff_users"]["auditor"])
    assert client.get(reverse("admin:kernel_auditevent_change", args=[event.pk])).status_code == 200
