from django.urls import path

from workbench import evaluation, roles, settlement_views, views

app_name = "web"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("map.geojson", views.map_data, name="map_data"),
    path("listings/<int:pk>/", views.listing_detail, name="listing"),
    path("assets/new/", views.asset_new, name="asset_new"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("requests/", views.my_requests, name="my_requests"),
    path("requests/<int:pk>/withdraw/", views.withdraw_request, name="withdraw_request"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/decide/", views.decide, name="decide"),
    path("transfers/", views.transfer_list, name="transfers"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer"),
    path("transfers/export.<str:fmt>", views.transfer_export, name="transfer_export"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("ledger/", views.ledger, name="ledger"),
    path("settlement/", settlement_views.periods, name="settlement"),
    path("settlement/<int:pk>/close/", settlement_views.close, name="settlement_close"),
    path("settlement/instructions/<int:pk>/confirm/", settlement_views.confirm, name="settlement_confirm"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/download/", views.report_download, name="report_download"),
    path("roles/", roles.role_page, name="roles"),
    path("evaluation/", evaluation.published, name="evaluation_published"),
    path("evaluation/league/", evaluation.league, name="evaluation_league"),
    path("evaluation/league/<int:pk>/", evaluation.league, name="evaluation_league_of"),
    path("evaluation/<int:pk>/facts.<str:fmt>", evaluation.facts_download, name="evaluation_facts"),
    path("evaluation/<int:pk>/report.pdf", evaluation.pdf, name="evaluation_pdf"),
    path("evaluation/<int:pk>/publish/", evaluation.publish, name="evaluation_publish"),
    path("evaluation/<int:pk>/objections/", evaluation.file_objection, name="evaluation_object"),
    path("evaluation/objections/<int:pk>/decide/", evaluation.decide_objection, name="evaluation_decide"),
    path("roles/grant/", roles.grant, name="role_grant"),
    path("roles/<int:pk>/revoke/", roles.revoke, name="role_revoke"),
    path("roles/ask/", roles.ask, name="role_ask"),
    path("roles/requests/<int:pk>/decide/", roles.decide_access, name="access_decide"),
]
