"""One WGS84 geodesic everywhere, checked against an independent implementation (geographiclib, Karney)
to 1 m; every distance the product shows or charges comes from it."""
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from django.contrib.gis.geos import Point
from geographiclib.geodesic import Geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.services import optimizer
from kernel.geo import geodesic_m, geodesic_m_array, geodesic_m_from, km_between, point_lon_lat
from tests.factories import gid

lon = st.floats(min_value=73, max_value=135, allow_nan=False)
lat = st.floats(min_value=3, max_value=54, allow_nan=False)


def karney_m(a, b):
    return Geodesic.WGS84.Inverse(a.y, a.x, b.y, b.x)["s12"]


@settings(max_examples=300, deadline=None)
@given(lon, lat, lon, lat)
def test_geodesic_matches_geographiclib_to_a_metre_across_china(lon1, lat1, lon2, lat2):
    a, b = Point(lon1, lat1, srid=4326), Point(lon2, lat2, srid=4326)
    assert abs(geodesic_m(a, b) - karney_m(a, b)) < 1.0


@settings(max_examples=200, deadline=None)
@given(lon, lat, st.lists(st.tuples(lon, lat), min_size=1, max_size=40))
def test_a_pages_geodesic_is_compensations_geodesic(lon1, lat1, points):
    """A search page's distances (geodesic_m_from, pair by pair in floats) are geodesic_m's (what compensation
    charges), to a micrometre: the same iteration, stopping where each pair converges."""
    origin = Point(lon1, lat1, srid=4326)
    expected = [geodesic_m(origin, Point(*p, srid=4326)) for p in points]
    assert geodesic_m_from(lon1, lat1, points) == pytest.approx(expected, abs=1e-6, rel=0)
    assert geodesic_m_from(lon1, lat1, [(lon1, lat1)]) == [0.0]


class _Row:
    def __init__(self, location):
        self.__dict__["location"] = location


@pytest.mark.parametrize("point", [Point(121.4737, 31.2304, srid=4326), Point(-70.5, -33.25, srid=4326),
                                   Point(0, 0)])
def test_a_points_coordinates_are_read_from_its_ewkb_as_from_geos(point):
    hexed = [point.hexewkb.decode(), point.hex.decode(), point.hexewkb.decode().lower()]
    for value in hexed:
        assert point_lon_lat(_Row(value)) == point.coords
    assert point_lon_lat(_Row(point)) == point.coords


@pytest.mark.parametrize("a, b", [((121.4737, 31.2304), (120.1551, 30.2741)),  # Shanghai–Hangzhou
                                  ((120.5853, 31.2990), (118.7969, 32.0603)),  # Suzhou–Nanjing
                                  ((0, 0), (0, 0)), ((0, 0), (90, 0)), ((-70, -33), (151, -34))])
def test_known_pairs_and_the_vectorised_form_agree(a, b):
    pa, pb = Point(*a, srid=4326), Point(*b, srid=4326)
    assert abs(geodesic_m(pa, pb) - karney_m(pa, pb)) < 1.0
    matrix = geodesic_m_array(np.array([[a[0]]]), np.array([[a[1]]]), np.array([[b[0]]]), np.array([[b[1]]]))
    assert matrix.shape == (1, 1) and float(matrix[0, 0]) == geodesic_m(pa, pb)


def test_optimizer_and_transfer_distances_come_from_the_same_geodesic():
    a, b = Point(121.4737, 31.2304, srid=4326), Point(120.1551, 30.2741, srid=4326)
    metres = geodesic_m(a, b)
    assert float(optimizer.geodesic_km(a.x, a.y, b.x, b.y)) == metres / 1000
    assert km_between(a, b) == (Decimal(repr(metres)) / 1000).quantize(Decimal("0.01"), "ROUND_HALF_UP")


def test_search_agencies_and_compensation_report_the_same_distance(region_world, gql):
    from tests import factories_exchange as fx

    world = region_world
    world["standards"] = fx.standard_set(world["region"], own_window_days=0)
    listing = fx.open_listing(world, acquired_on=date(2020, 1, 1))
    expected = geodesic_m(world["agency_a"].location, world["agency_b"].location) / 1000
    gql.login(world["users"]["staff_b"])
    found = gql.operation("AgenciesDistance", {"from": gid(world["agency_a"]), "to": gid(world["agency_b"])})
    assert "errors" not in found, found
    assert found["data"]["distanceKm"] == round(expected, 2)  # km shown to 0.01, rounded once
    from exchange.selectors import listings_for

    [row] = [x for x in listings_for(world["users"]["staff_b"], from_my_agency=True) if x.pk == listing.pk]
    assert row.search_km == pytest.approx(expected, abs=1e-6)  # (listing point = agency point)


def test_the_two_forms_agree_to_a_hundredth_of_a_millimetre():
    """The float form (pairs, pages, postings) and the numpy form (the optimizer's matrices) are one formula."""
    import random

    rng = random.Random(3)
    pairs = [((rng.uniform(115, 123), rng.uniform(27, 35)), (rng.uniform(115, 123), rng.uniform(27, 35)))
             for _ in range(2000)]
    vectorised = geodesic_m_array([a[0] for a, _ in pairs], [a[1] for a, _ in pairs],
                                  [b[0] for _, b in pairs], [b[1] for _, b in pairs])
    floats = [geodesic_m(Point(*a, srid=4326), Point(*b, srid=4326)) for a, b in pairs]
    # a matrix iterates until all its pairs converge, a pair until it does: micrometres apart at most
    assert max(abs(x - y) for x, y in zip(vectorised.tolist(), floats, strict=True)) < 1e-5
