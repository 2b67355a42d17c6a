"""Geodesic distance on the WGS84 ellipsoid (Vincenty's inverse formula, mm accuracy), computed in Python
rather than by the database so SpatiaLite and PostGIS give exactly the same answer; the database only
pre-filters."""
import math
from decimal import ROUND_HALF_UP, Decimal

WGS84_A, WGS84_F = 6378137.0, 1 / 298.257223563


def geodesic_km(a, b) -> Decimal:
    """Ellipsoidal (WGS84) distance in km between two lon/lat points, 3 decimals."""
    return Decimal(str(_vincenty_m(a.x, a.y, b.x, b.y) / 1000)).quantize(Decimal("0.001"), ROUND_HALF_UP)


def _vincenty_m(lon1, lat1, lon2, lat2):
    a, f = WGS84_A, WGS84_F
    b = a * (1 - f)
    u1, u2 = math.atan((1 - f) * math.tan(math.radians(lat1))), math.atan((1 - f) * math.tan(math.radians(lat2)))
    sin_u1, cos_u1, sin_u2, cos_u2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    big_l = lam = math.radians(lon2 - lon1)
    for _ in range(200):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        if sin_sigma == 0:
            return 0.0
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cos_u1 * cos_u2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha ** 2
        cos_2sm = cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha if cos2_alpha else 0.0
        c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
        previous = lam
        lam = big_l + (1 - c) * f * sin_alpha * (sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (
            -1 + 2 * cos_2sm ** 2)))
        if abs(lam - previous) < 1e-12:
            break
    u_sq = cos2_alpha * (a * a - b * b) / (b * b)
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta = big_b * sin_sigma * (cos_2sm + big_b / 4 * (cos_sigma * (-1 + 2 * cos_2sm ** 2) - big_b / 6 * cos_2sm * (
        -3 + 4 * sin_sigma ** 2) * (-3 + 4 * cos_2sm ** 2)))
    return b * big_a * (sigma - delta)


def km_between(a, b):
    """Distance in km between two WGS84 points, 2 decimals: the same ellipsoidal distance that
    `distanceKm` reports (`geodesic_km`), so compensation and the API agree."""
    return geodesic_km(a, b).quantize(Decimal("0.01"), ROUND_HALF_UP)
