from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("download/<int:job_id>", views.download, name="download"),
    path("verify/<str:code>", views.verify, name="verify"),
]
