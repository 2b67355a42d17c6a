"""Scalars of the contract: GeoJSON geometry (registered once for every GeoDjango geometry field), Money,
km, and the factory for domain-named enums."""
import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum as PyEnum

import graphene
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils import translation
from graphene_django.converter import convert_django_field
from graphql.language import FloatValueNode, IntValueNode, StringValueNode
from graphql.utilities import value_from_ast_untyped

from graphql import GraphQLError


class Geometry(graphene.Scalar):
    """A GeoJSON geometry object in EPSG:4326 (longitude, latitude), e.g.
    {"type": "Point", "coordinates": [121.475, 31.232]}."""

    @staticmethod
    def serialize(geometry):
        if geometry is None or isinstance(geometry, dict):  # a dict: already shaped (see `shaped_geojson`)
            return geometry
        if geometry.geom_typeid == 0:  # a point (every listing, asset and agency): no round trip through GDAL
            return {"type": "Point", "coordinates": list(geometry.coords)}
        return json.loads(geometry.geojson)

    @classmethod
    def parse_literal(cls, node, _variables=None):
        return cls.parse_value(value_from_ast_untyped(node, _variables))

    @staticmethod
    def parse_value(value):
        try:
            geometry = GEOSGeometry(json.dumps(value) if not isinstance(value, str) else value)
        except (GEOSException, GDALException, ValueError, TypeError) as exc:
            raise GraphQLError(f"Invalid GeoJSON geometry: {exc}", extensions={"code": "invalid"}) from exc
        if geometry.srid is None:
            geometry.srid = 4326
        if not geometry.valid:
            raise GraphQLError(f"Invalid geometry: {geometry.valid_reason}", extensions={"code": "invalid"})
        return geometry


@convert_django_field.register(GeometryField)
def convert_geometry_field(field, registry=None):
    return Geometry(description=str(field.verbose_name), required=not field.null)


class Money(graphene.Scalar):
    """金额 An amount of money in CNY, written as a string with exactly two decimals, e.g. "1234.50".
    Inputs accept such a string (or a number) with at most two decimals."""

    QUANTUM = Decimal("0.01")

    @classmethod
    def serialize(cls, value):
        if value is None:
            return None
        return str(Decimal(value).quantize(cls.QUANTUM, rounding=ROUND_HALF_UP))

    @classmethod
    def parse_literal(cls, node, _variables=None):
        if isinstance(node, StringValueNode | IntValueNode | FloatValueNode):
            return cls.parse_value(node.value)
        raise GraphQLError("Money is a string with at most two decimals, e.g. \"1234.50\".",
                           extensions={"code": "INVALID"})

    @classmethod
    def parse_value(cls, value):
        try:
            amount = Decimal(str(value).strip()) if not isinstance(value, bool) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount.as_tuple().exponent < -2:
            raise GraphQLError(f"Not an amount of money with at most two decimals: {value!r}.",
                               extensions={"code": "INVALID"})
        return amount.quantize(cls.QUANTUM)


def km(value):
    """A distance in km as the API gives it everywhere: a float rounded to 0.01 km."""
    return None if value is None else round(float(value), 2)


def bilingual(label):
    """"中文 English" for a (lazy) translated label, whatever language is active when the schema is built."""
    with translation.override("zh-hans"):
        chinese = str(label)
    with translation.override("en"):
        english = str(label)
    return chinese if chinese == english or english in chinese else f"{chinese} {english}"


def domain_enum(name, choices, description, values=None):
    """A GraphQL enum named after the domain (not the Django field) for a closed set of `choices`
    (a Django `TextChoices`, or `[(value, label)]`): names are the values in upper case, each described by
    its bilingual label; `description` is bilingual too (中文 English)."""
    pairs = [(str(v), bilingual(label)) for v, label in (choices.choices if hasattr(choices, "choices") else choices)]
    pairs += [(str(v), bilingual(label)) for v, label in (values or ())]
    if isinstance(choices, type) and issubclass(choices, PyEnum) and not values:
        members = choices  # the model's own TextChoices: a model attribute holding a member serialises as is
    else:
        members = PyEnum(name, [(value.upper(), value) for value, _label in pairs], type=str)
    labels = dict(pairs)

    def describe(member):
        return description if member is None else labels[member.value]

    return graphene.Enum.from_enum(members, name=name, description=describe)


def enum_value(member):
    """The plain value of an enum argument (graphene passes enum members; services take the values)."""
    return getattr(member, "value", member)


def _rounded(coordinates, digits):
    if isinstance(coordinates, float | int):
        return round(coordinates, digits)
    return [_rounded(c, digits) for c in coordinates]


def shaped_geojson(geometry, simplify, precision):
    """GeoJSON of `geometry` simplified with tolerance `simplify` (degrees, topology kept; 0 = as stored) and
    coordinates rounded to `precision` decimals (5 ≈ 1 m)."""
    if geometry is None:
        return None
    if simplify:
        geometry = geometry.simplify(simplify, preserve_topology=True)
    data = json.loads(geometry.geojson)
    data["coordinates"] = _rounded(data["coordinates"], precision)
    return data
