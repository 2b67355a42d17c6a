"""factory-boy factories for the shared models. Apps add their own in tests/factories_<app>.py."""
from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from exchange import models as ex
from regions import models as rg


def square(lon, lat, half=0.2):
    return MultiPolygon(Polygon.from_bbox((lon - half, lat - half, lon + half, lat + half)), srid=4326)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rg.Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"region{n}")
    name_zh = factory.Sequence(lambda n: f"区域{n}")
    name_en = factory.Sequence(lambda n: f"Region {n}")
    two_factor_required = False  # tests/test_two_factor.py turns it on


class JurisdictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rg.Jurisdiction
        django_get_or_create = ("code",)

    class Params:
        lon = 121.0
        lat = 31.0

    code = factory.Sequence(lambda n: f"{900000 + (n % 1000) * 100}")  # always 6 digits (GB/T 2260)
    level = "city"
    name_zh = factory.Sequence(lambda n: f"测试市{n}")
    name_en = factory.Sequence(lambda n: f"Test City {n}")
    boundary = factory.LazyAttribute(lambda o: square(o.lon, o.lat))
    boundary_simplified = factory.LazyAttribute(lambda o: square(o.lon, o.lat))
    centroid = factory.LazyAttribute(lambda o: Point(o.lon, o.lat, srid=4326))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rg.Membership

    region = factory.SubFactory(RegionFactory)
    jurisdiction = factory.SubFactory(JurisdictionFactory)
    joined_on = date(2020, 1, 1)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rg.Agency
        skip_postgeneration_save = True

    jurisdiction = factory.SubFactory(JurisdictionFactory)
    code = factory.Sequence(lambda n: f"AG{n:016d}")
    name_zh = factory.Sequence(lambda n: f"测试单位{n}")
    name_en = factory.Sequence(lambda n: f"Agency {n}")
    location = factory.LazyAttribute(lambda o: o.jurisdiction.centroid or Point(121.0, 31.0, srid=4326))

    @factory.post_generation
    def staff(self, create, extracted, **kwargs):
        if create:
            rg.Headcount.objects.create(agency=self, rank=rg.Rank.STAFF, count=extracted or 20)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-123456")


def user_with_role(role, scope, username=None):
    """A user holding one role binding; `scope` is a Region, Jurisdiction or Agency."""
    user = UserFactory(**({"username": username} if username else {}))
    key = {rg.Region: "region", rg.Jurisdiction: "jurisdiction", rg.Agency: "agency"}[type(scope)]
    rg.RoleBinding.objects.create(user=user, role=role, **{key: scope})
    return user


class StandardSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rg.StandardSet

    region = factory.SubFactory(RegionFactory)
    effective_from = date(2014, 12, 1)
    title = "测试标准"


class AssetClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ex.AssetClass
        django_get_or_create = ("code",)

    code = "2010104"
    name_zh = "台式计算机"
    name_en = "Desktop computer"
    kind = "equipment"


class AssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ex.Asset

    agency = factory.SubFactory(AgencyFactory)
    asset_class = factory.SubFactory(AssetClassFactory)
    description = factory.Sequence(lambda n: f"联想台式机 {n}")
    quantity = 1
    original_value = Decimal("4500.00")
    acquired_on = date(2017, 3, 1)
    location = factory.LazyAttribute(lambda o: o.agency.location)


def gid(obj):
    """The relay global ID of a model instance, as the API gives and takes it (type name of its GraphQL type)."""
    from graphene_django.registry import get_global_registry
    from graphql_relay import to_global_id

    from config.schema import schema  # noqa: F401 - registers every GraphQL type

    return to_global_id(get_global_registry().get_type_for_model(type(obj))._meta.name, obj.pk)


def pk_of(global_id):
    """The primary key inside a relay global ID."""
    from graphql_relay import from_global_id

    return int(from_global_id(global_id)[1])
