"""GeoJSON geometry scalar, registered once for every GeoDjango geometry field."""
import json

import graphene
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from graphene_django.converter import convert_django_field
from graphql.utilities import value_from_ast_untyped

from graphql import GraphQLError


class Geometry(graphene.Scalar):
    """A GeoJSON geometry object in EPSG:4326 (longitude, latitude), e.g.
    {"type": "Point", "coordinates": [121.475, 31.232]}."""

    @staticmethod
    def serialize(geometry):
        return json.loads(geometry.geojson) if geometry is not None else None

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
