from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.graphql_view import ExchangeGraphQLView
from config.healthz import healthz
from workbench import two_factor

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/two-factor/", two_factor.verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", two_factor.setup, name="two_factor_setup"),
    path("accounts/two-factor/cancel/", two_factor.cancel, name="two_factor_cancel"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("graphql/", ExchangeGraphQLView.as_view(graphiql=settings.GRAPHIQL), name="graphql"),
    path("healthz", healthz, name="healthz"),
    path("reports/", include("reports.urls")),
    path("notifications/", include("notifications.urls")),
    path("lifecycle/", include("lifecycle.urls")),
    path("", include("workbench.urls")),
]
