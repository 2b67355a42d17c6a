"""Geodesic distance on the WGS84 ellipsoid (Vincenty's inverse formula, sub-millimetre where it converges),
computed in Python rather than by the database so SpatiaLite and PostGIS give exactly the same answer; the
database only pre-filters. One function for every distance of the product (search `distanceKm`, between
agencies, `transfer.distanceKm`, the optimizer, compensation), rounded only where a figure is shown or posted;
one formula in two forms, numpy-vectorised (the optimizer's matrices) and pair by pair in floats (a pair, a
page of search results), which agree to a hundredth of a millimetre. Checked against geographiclib (Karney) to 1 m in
tests/test_geodesic.py."""
import math
import struct
import weakref
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

WGS84_A, WGS84_F = 6378137.0, 1 / 298.257223563


def geodesic_m(a, b) -> float:
    """Ellipsoidal (WGS84) distance in metres between two lon/lat points, unrounded: the one distance of
    the product (search, agencies, transfers, optimizer, compensation). Callers round only for display.
    One pair: the float form (numpy's per-call cost is most of a posting's arithmetic)."""
    return geodesic_m_from(a.x, a.y, [(b.x, b.y)])[0]


def geodesic_km(a, b) -> Decimal:
    """`geodesic_m` in km, 3 decimals (for display)."""
    return Decimal(str(geodesic_m(a, b) / 1000)).quantize(Decimal("0.001"), ROUND_HALF_UP)


def geodesic_m_array(lon1, lat1, lon2, lat2):
    """Vincenty's inverse formula on WGS84 (sub-millimetre where it converges: everywhere but nearly
    antipodal points), numpy-broadcasting so that the optimizer's distance matrix uses the same code."""
    a, f = WGS84_A, WGS84_F
    b = a * (1 - f)
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    u1, u2 = np.arctan((1 - f) * np.tan(np.radians(lat1))), np.arctan((1 - f) * np.tan(np.radians(lat2)))
    sin_u1, cos_u1, sin_u2, cos_u2 = np.sin(u1), np.cos(u1), np.sin(u2), np.cos(u2)
    big_l = np.radians(lon2 - lon1)
    lam = big_l.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        for _ in range(200):
            sin_lam, cos_lam = np.sin(lam), np.cos(lam)
            sin_sigma = np.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
            cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
            sigma = np.arctan2(sin_sigma, cos_sigma)
            sin_alpha = np.where(sin_sigma == 0, 0.0, cos_u1 * cos_u2 * sin_lam / sin_sigma)
            cos2_alpha = 1 - sin_alpha ** 2
            cos_2sm = np.where(cos2_alpha == 0, 0.0, cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha)
            c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
            previous = lam
            lam = big_l + (1 - c) * f * sin_alpha * (sigma + c * sin_sigma * (
                cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm ** 2)))
            if np.all(np.abs(lam - previous) < 1e-12):
                break
    u_sq = cos2_alpha * (a * a - b * b) / (b * b)
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta = big_b * sin_sigma * (cos_2sm + big_b / 4 * (cos_sigma * (-1 + 2 * cos_2sm ** 2) - big_b / 6 * cos_2sm * (
        -3 + 4 * sin_sigma ** 2) * (-3 + 4 * cos_2sm ** 2)))
    return np.where(sin_sigma == 0, 0.0, b * big_a * (sigma - delta))


def geodesic_m_from(lon, lat, points):
    """`geodesic_m` from (lon, lat) to each (lon, lat) of `points`: the same iteration as geodesic_m_array,
    one pair at a time in plain floats (a page of search results: numpy costs more than the arithmetic below
    some hundred points). Each pair stops when it converges, as `geodesic_m` of that pair alone does."""
    a, f = WGS84_A, WGS84_F
    b = a * (1 - f)
    sin, cos, atan, atan2, tan, hypot = math.sin, math.cos, math.atan, math.atan2, math.tan, math.hypot
    radians = math.radians
    u1 = atan((1 - f) * tan(radians(lat)))
    sin_u1, cos_u1 = sin(u1), cos(u1)
    ab = (a * a - b * b) / (b * b)
    found = []
    for lon2, lat2 in points:
        u2 = atan((1 - f) * tan(radians(lat2)))
        sin_u2, cos_u2 = sin(u2), cos(u2)
        big_l = radians(lon2 - lon)
        lam = big_l
        for _ in range(200):
            sin_lam, cos_lam = sin(lam), cos(lam)
            sin_sigma = hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
            if sin_sigma == 0:
                break
            cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
            sigma = atan2(sin_sigma, cos_sigma)
            sin_alpha = cos_u1 * cos_u2 * sin_lam / sin_sigma
            cos2_alpha = 1 - sin_alpha ** 2
            cos_2sm = 0.0 if cos2_alpha == 0 else cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha
            c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
            previous = lam
            lam = big_l + (1 - c) * f * sin_alpha * (sigma + c * sin_sigma * (
                cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm ** 2)))
            if abs(lam - previous) < 1e-12:
                break
        if sin_sigma == 0:
            found.append(0.0)
            continue
        u_sq = cos2_alpha * ab
        big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
        big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
        delta = big_b * sin_sigma * (cos_2sm + big_b / 4 * (cos_sigma * (-1 + 2 * cos_2sm ** 2) - big_b / 6 * cos_2sm
                                                            * (-3 + 4 * sin_sigma ** 2) * (-3 + 4 * cos_2sm ** 2)))
        found.append(b * big_a * (sigma - delta))
    return found


def km_between(a, b):
    """Distance in km for display on a transfer, 2 decimals, rounded once from `geodesic_m` (compensation
    uses the unrounded figure)."""
    return (Decimal(repr(geodesic_m(a, b))) / 1000).quantize(Decimal("0.01"), ROUND_HALF_UP)


def point_lon_lat(instance, attname="location"):
    """(lon, lat) of a model instance's point field without building its GEOS object when the field still
    holds the hex EWKB PostGIS sent (kernel.prepared leaves geometry columns so until they are read)."""
    value = instance.__dict__.get(attname)
    if isinstance(value, str) and len(value) >= 42:
        raw = bytes.fromhex(value)
        order = "<" if raw[0] == 1 else ">"
        (kind,) = struct.unpack_from(order + "I", raw, 1)
        if kind & 0x0FFFFFFF == 1 and not kind & 0xC0000000:  # a 2D point, with or without an SRID
            return struct.unpack_from(order + "dd", raw, 9 if kind & 0x20000000 else 5)
    return getattr(instance, attname).coords[:2]


class PageDistances:
    """The geodesic distances (`geodesic_m_from`) of a page of rows from the point a search measured from,
    computed together at the first read of any row's (`Listing.search_km`), set as each row's `search_m`.
    A page that no one reads the distances of costs none; the page holds its rows weakly (no cycle)."""

    KEY = "search_page"

    def __init__(self, lon, lat, rows, attname="location"):
        self.lon, self.lat, self.attname = lon, lat, attname
        self.rows = [weakref.ref(row) for row in rows]
        for row in rows:
            row.__dict__[self.KEY] = self

    def fill(self):
        rows = [row for row in (ref() for ref in self.rows) if row is not None]
        metres = geodesic_m_from(self.lon, self.lat, [point_lon_lat(row, self.attname) for row in rows])
        for row, m in zip(rows, metres, strict=True):
            row.__dict__["search_m"] = m
