"""The exchange demo data loads through the services, is idempotent and shows every light."""
import pytest

from exchange import demo
from exchange.models import Listing, Transfer
from kernel.audit import verify_chain
from regions import demo as regions_demo


@pytest.mark.django_db
def test_demo_loads_once_with_open_listings_and_transfers_in_every_state(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    regions_demo.load_all()
    demo.load_all()
    demo.load_all()  # idempotent
    assert Listing.objects.filter(status="open").count() == 8
    in_flight = Transfer.objects.get(status="approving")
    assert {s.kind: str(s.light) for s in in_flight.steps.all()} == {
        "giving_bureau": "green", "coordinator": "yellow", "receiving_bureau": "red"}
    completed = Transfer.objects.get(status="completed", receiver__code=demo.HZ_EDU)
    assert completed.received_asset.agency.code == demo.HZ_EDU and completed.certificate_code
    within = Transfer.objects.get(status="completed", receiver__code=demo.NJ_BUREAU)
    assert within.giver.code == demo.SZ_BUREAU and within.received_asset.agency.code == demo.NJ_BUREAU
    assert verify_chain() is None
