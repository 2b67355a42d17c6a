"""PostGIS: a GiST index on the listing's location in Web Mercator, which nearest-first searches walk in
order (exchange.selectors.nearest_first); SQLite orders by its own geodesic distance."""
from django.db import migrations

from kernel.dbtriggers import run_vendor_sql

INDEX = "listing_location_mercator"


def _create(vendor):
    if vendor != "postgresql":
        return []
    return [f"CREATE INDEX IF NOT EXISTS {INDEX} ON exchange_listing USING gist ((ST_Transform(location, 3857)))"]


def _drop(vendor):
    return [f"DROP INDEX IF EXISTS {INDEX}"] if vendor == "postgresql" else []


class Migration(migrations.Migration):

    dependencies = [
        ('exchange', '0011_input_bounds'),
    ]

    operations = [
        migrations.RunPython(run_vendor_sql(_create), run_vendor_sql(_drop)),
    ]
