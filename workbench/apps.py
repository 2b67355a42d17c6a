from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkbenchConfig(AppConfig):
    name = "workbench"
    verbose_name = _("Workbench")

    def ready(self):
        """The admin speaks the product's name, and every geometry field it edits uses the offline map
        widget (OpenLayers from our static files, no tiles), whichever app registered the model; sign-ins
        learn whether they owe a second factor (workbench.two_factor)."""
        from django.contrib import admin
        from django.contrib.gis.db.models import GeometryField

        from workbench.widgets import OfflineMapWidget

        admin.site.site_header = _("Gongwucang · shared warehouse administration")
        admin.site.site_title = _("Gongwucang administration")
        admin.site.index_title = _("Back office")
        for model_admin in admin.site._registry.values():
            model_admin.formfield_overrides[GeometryField] = {"widget": OfflineMapWidget}

        from workbench import two_factor  # noqa: F401  (connects the sign-in receiver)
