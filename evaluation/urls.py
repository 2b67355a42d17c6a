from django.urls import path

from . import views

app_name = "evaluation"
urlpatterns = [
    path("", views.published, name="published"),
    path("league/", views.league, name="league"),
    path("league/<int:pk>/", views.league, name="league_of"),
    path("<int:pk>/facts.<str:fmt>", views.facts_download, name="facts"),
    path("<int:pk>/report.pdf", views.pdf, name="pdf"),
]
