"""Demo data for the Yangtze River Delta region: real jurisdictions and outlines (fixture), national
baseline standards from DOMAIN.md, a few real-named agencies and one user per role."""
import json
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from regions.models import (
    Agency,
    AssetClassNorm,
    Headcount,
    Jurisdiction,
    Membership,
    OfficeSpaceNorm,
    Rank,
    Region,
    RentNorm,
    RoleBinding,
    SettlingLevel,
    StandardSet,
)
from regions.services.boundaries import import_boundaries

FIXTURE = settings.BASE_DIR / "fixtures" / "yrd_jurisdictions.geojson"
DEMO_PASSWORD = "demo-pass-2026"

# 党政机关办公用房建设标准 (2014): m² per person by jurisdiction level and rank.
OFFICE_NORMS_2014 = {
    "province": {Rank.HEAD: 54, Rank.DEPUTY: 42, Rank.BUREAU_HEAD: 30, Rank.DEPUTY_BUREAU_HEAD: 24,
                 Rank.DIVISION_HEAD: 18, Rank.DEPUTY_DIVISION_HEAD: 12, Rank.STAFF: 9},
    "city": {Rank.HEAD: 42, Rank.DEPUTY: 30, Rank.BUREAU_HEAD: 24, Rank.DEPUTY_BUREAU_HEAD: 18, Rank.STAFF: 9},
    "county": {Rank.HEAD: 30, Rank.DEPUTY: 24, Rank.SECTION_HEAD: 12, Rank.STAFF: 9},
}
# The 1999 standard had smaller figures; kept so that effective dating is visible in the demo.
OFFICE_NORMS_1999 = {
    "province": {Rank.HEAD: 42, Rank.DEPUTY: 30, Rank.BUREAU_HEAD: 24, Rank.DEPUTY_BUREAU_HEAD: 18,
                 Rank.DIVISION_HEAD: 12, Rank.DEPUTY_DIVISION_HEAD: 9, Rank.STAFF: 6},
    "city": {Rank.HEAD: 32, Rank.DEPUTY: 18, Rank.BUREAU_HEAD: 12, Rank.DEPUTY_BUREAU_HEAD: 9, Rank.STAFF: 6},
    "county": {Rank.HEAD: 20, Rank.DEPUTY: 12, Rank.SECTION_HEAD: 9, Rank.STAFF: 6},
}
# 财资〔2016〕27号 (minimum service life, price caps) and vehicle rules; codes follow GB/T 14885.
CLASS_NORMS = [
    # code, min years, price cap, quantity per head, compensation rate
    ("2010104", 6, "5000.00", "1.00", "0.800"),
    ("2010105", 6, "7000.00", "0.50", "0.800"),
    ("2010601", 6, "3000.00", "0.25", "0.800"),
    ("2030501", 8, "180000.00", None, "0.700"),
    ("6010201", 15, "3000.00", "1.00", "0.600"),
    ("6010301", 15, "1000.00", "1.00", "0.600"),
    ("6010501", 15, "2000.00", "2.00", "0.600"),
]
RENT_PER_M2 = {"310000": "12.00", "320100": "6.50", "320500": "6.00", "330100": "7.50", "340100": "4.50"}
DEMO_AGENCIES = [
    # code, jurisdiction, name_zh, name_en, bureau?, lon, lat, headcount by rank
    ("11310000MB0001001A", "310000", "上海市机关事务管理局", "Shanghai Government Offices Administration", True,
     121.4737, 31.2304, {Rank.BUREAU_HEAD: 1, Rank.DEPUTY_BUREAU_HEAD: 3, Rank.STAFF: 80}),
    ("11310000MB0001002B", "310000", "上海市统计局", "Shanghai Statistics Bureau", False,
     121.4450, 31.2190, {Rank.BUREAU_HEAD: 1, Rank.DEPUTY_BUREAU_HEAD: 2, Rank.STAFF: 40}),
    ("11330100MB0002001C", "330100", "杭州市机关事务管理局", "Hangzhou Government Offices Administration", True,
     120.1551, 30.2741, {Rank.BUREAU_HEAD: 1, Rank.DEPUTY_BUREAU_HEAD: 2, Rank.STAFF: 50}),
    ("11330100MB0002002D", "330100", "杭州市教育局", "Hangzhou Education Bureau", False,
     120.1690, 30.2930, {Rank.BUREAU_HEAD: 1, Rank.DEPUTY_BUREAU_HEAD: 3, Rank.STAFF: 6}),
    ("11320100MB0003001E", "320100", "南京市机关事务管理局", "Nanjing Government Offices Administration", True,
     118.7969, 32.0603, {Rank.BUREAU_HEAD: 1, Rank.DEPUTY_BUREAU_HEAD: 2, Rank.STAFF: 45}),
    ("11320500MB0004001F", "320500", "苏州市机关事务管理局", "Suzhou Government Offices Administration", True,
     120.5853, 31.2990, {Rank.BUREAU_HEAD: 1, Rank.DEPUTY_BUREAU_HEAD: 2, Rank.STAFF: 40}),
    ("11340100MB0005001G", "340100", "合肥市机关事务管理局", "Hefei Government Offices Administration", True,
     117.2272, 31.8206, {Rank.BUREAU_HEAD: 1, Rank.DEPUTY_BUREAU_HEAD: 2, Rank.STAFF: 35}),
]
DEMO_USERS = [
    # username, role, scope kind, scope key
    ("coordinator", "coordinator", "region", "yrd"),
    ("auditor", "auditor", "region", "yrd"),
    ("sh_bureau", "bureau_manager", "jurisdiction", "310000"),
    ("hz_bureau", "bureau_manager", "jurisdiction", "330100"),
    ("nj_bureau", "bureau_manager", "jurisdiction", "320100"),
    ("sz_bureau", "bureau_manager", "jurisdiction", "320500"),
    ("js_bureau", "bureau_manager", "jurisdiction", "320000"),
    ("sh_stats", "agency_staff", "agency", "11310000MB0001002B"),
    ("hz_edu", "agency_staff", "agency", "11330100MB0002002D"),
    ("nj_office", "agency_staff", "agency", "11320100MB0003001E"),
    ("sz_office", "agency_staff", "agency", "11320500MB0004001F"),
]


def load_geography():
    with open(FIXTURE, encoding="utf-8") as fh:
        return import_boundaries(json.load(fh))


def load_region():
    """The region, its four provincial members and its settling level: the 41 prefecture-level cities settle
    compensation (Shanghai, a province-level municipality, settles itself), so Suzhou → Nanjing posts."""
    region, _ = Region.objects.get_or_create(code="yrd", defaults={"name_zh": "长三角区域",
                                                                   "name_en": "Yangtze River Delta"})
    for jurisdiction in Jurisdiction.objects.filter(level="province"):
        Membership.objects.get_or_create(region=region, jurisdiction=jurisdiction, joined_on=date(2019, 12, 1))
    SettlingLevel.objects.get_or_create(region=region, effective_from=date(2019, 12, 1),
                                        defaults={"level": Jurisdiction.Level.CITY})
    return region


def load_standards(region):
    for effective, norms, title in [
        (date(1999, 1, 1), OFFICE_NORMS_1999, "党政机关办公用房建设标准 (1999)"),
        (date(2014, 12, 1), OFFICE_NORMS_2014, "党政机关办公用房建设标准 (2014) / 财资〔2016〕27号"),
    ]:
        standard_set, created = StandardSet.objects.get_or_create(
            region=region, effective_from=effective, defaults={"title": title, "source": title})
        if not created:
            continue
        OfficeSpaceNorm.objects.bulk_create(
            OfficeSpaceNorm(standard_set=standard_set, level=level, rank=rank, area_m2=Decimal(area))
            for level, ranks in norms.items() for rank, area in ranks.items())
        AssetClassNorm.objects.bulk_create(
            AssetClassNorm(standard_set=standard_set, class_code=code, min_service_years=Decimal(years),
                           price_cap=Decimal(cap) if cap else None,
                           quantity_per_head=Decimal(per_head) if per_head else None,
                           compensation_rate=Decimal(rate))
            for code, years, cap, per_head, rate in CLASS_NORMS)
        jurisdictions = {j.code: j for j in Jurisdiction.objects.filter(code__in=RENT_PER_M2)}
        RentNorm.objects.bulk_create(
            RentNorm(standard_set=standard_set, jurisdiction=jurisdictions[code], rent_per_m2_month=Decimal(rent))
            for code, rent in RENT_PER_M2.items() if code in jurisdictions)


def load_agencies():
    jurisdictions = {j.code: j for j in Jurisdiction.objects.all()}
    for code, jcode, name_zh, name_en, bureau, lon, lat, headcount in DEMO_AGENCIES:
        agency, created = Agency.objects.get_or_create(code=code, defaults={
            "jurisdiction": jurisdictions[jcode], "name_zh": name_zh, "name_en": name_en,
            "is_affairs_bureau": bureau, "location": Point(lon, lat, srid=4326)})
        if created:
            Headcount.objects.bulk_create(Headcount(agency=agency, rank=r, count=n) for r, n in headcount.items())


def load_users(region):
    User = get_user_model()
    if not User.objects.filter(is_superuser=True).exists():
        User.objects.create_superuser("admin", "admin@example.org", DEMO_PASSWORD)
    scopes = {"region": lambda key: {"region": region},
              "jurisdiction": lambda key: {"jurisdiction": Jurisdiction.objects.get(code=key)},
              "agency": lambda key: {"agency": Agency.objects.get(code=key)}}
    for username, role, kind, key in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        RoleBinding.objects.get_or_create(user=user, role=role, **scopes[kind](key))


def load_all():
    load_geography()
    region = load_region()
    load_standards(region)
    load_agencies()
    load_users(region)
    return region
