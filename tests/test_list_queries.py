"""List pages run at most 6 SQL queries whatever their size (session and user included), on realistic
data: transfers whose approval steps were decided by users, completed and posted to the ledger."""
from datetime import date
from decimal import Decimal

import pytest

from tests import factories_exchange as fx
from tests.conftest import OPERATIONS
from tests.test_ledger import complete, world  # noqa: F401 - fixture

LISTS = ["TransferList", "ExchangeApprovalSteps", "MyOverdueSteps", "SearchNearbyListings", "LedgerAccounts",
         "LedgerCompensations"]


@pytest.fixture
def posted_world(world):  # noqa: F811
    for i in range(3):
        complete(world, fx.open_listing(world, original_value=Decimal(2000 + i), acquired_on=date(2023, 1, 1)))
    return world


@pytest.mark.parametrize("name", LISTS)
def test_list_pages_stay_within_six_queries(posted_world, gql, assert_num_queries_constant, name):
    gql.login(posted_world["users"]["coordinator"])
    query = (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8")
    assert_num_queries_constant(query, lambda size: {"first": size}, small=1, large=3, maximum=6)
