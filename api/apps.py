from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "GraphQL"

    def ready(self):
        # Register the GeoJSON converter for geometry fields before any DjangoObjectType is built,
        # whichever module builds a schema first.
        from api import scalars  # noqa: F401
