"""An offline geometry widget for the Django admin: Django's OpenLayers widget with OpenLayers served
from our static files (no CDN) and a blank base layer instead of remote tiles. Use it in an admin with
`gis_widget = OfflineMapWidget` (on a GISModelAdmin)."""
from django.contrib.gis.forms.widgets import OpenLayersWidget


class OfflineMapWidget(OpenLayersWidget):
    template_name = "web/gis/openlayers_offline.html"
    default_lon = 120.0
    default_lat = 31.0
    default_zoom = 6

    class Media:
        extend = False  # not the CDN files of the parent
        css = {"all": ("web/ol/ol.css", "gis/css/ol3.css")}
        js = ("web/ol/ol.js", "gis/js/OLMapWidget.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context.update(default_lon=self.default_lon, default_lat=self.default_lat, default_zoom=self.default_zoom)
        return context
