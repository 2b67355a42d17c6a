from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.graphql_view import ExchangeGraphQLView
from config.healthz import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("graphql/", ExchangeGraphQLView.as_view(graphiql=True), name="graphql"),
    path("healthz", healthz, name="healthz"),
    path("reports/", include("reports.urls")),
    path("notifications/", include("notifications.urls")),
    path("lifecycle/", include("lifecycle.urls")),
    path("", include("workbench.urls")),
]
if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
