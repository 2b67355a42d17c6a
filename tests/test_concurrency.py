"""50 concurrent requesters of a 1-unit listing on PostgreSQL: exactly one allocation, 49 typed
`already_allocated`, nothing else leaked."""
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from exchange.models import Listing, Transfer, TransferRequest
from kernel import audit
from kernel.errors import DomainError
from tests import factories as f
from tests import factories_exchange as fx

THREADS = 50


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_requests_allocate_exactly_once(region_world):
    from django.db import transaction

    from exchange.services.transfer_requests import create_request

    fx.standard_set(region_world["region"], own_window_days=0)
    listing = fx.open_listing(region_world)
    requesters = []
    for i in range(THREADS):
        agency = f.AgencyFactory(jurisdiction=region_world["city_b"], name_zh=f"杭州单位{i}")
        requesters.append((f.user_with_role("agency_staff", agency, f"racer{i}"), agency))
    barrier = threading.Barrier(THREADS)
    outcomes = []

    def race(user, agency):
        try:
            barrier.wait()
            with transaction.atomic():
                create_request(user, listing=listing, agency=agency, quantity=1, justification="并发申领")
            outcomes.append("allocated")
        except DomainError as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - anything else is the failure we look for
            outcomes.append(f"leaked {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race, args=pair) for pair in requesters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert connection.vendor == "postgresql"
    assert Counter(outcomes) == {"allocated": 1, "already_allocated": THREADS - 1}, Counter(outcomes)
    assert Transfer.objects.count() == 1 and TransferRequest.objects.count() == 1
    listing.refresh_from_db()
    assert listing.quantity_available == 0 and listing.status == Listing.Status.ALLOCATED
    assert audit.verify_chain() is None
