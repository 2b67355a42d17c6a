from django.urls import path

from lifecycle import views

app_name = "lifecycle"
urlpatterns = [
    path("disposals/", views.disposal_list, name="disposals"),
    path("disposals/<int:pk>/<slug:action>/", views.disposal_action, name="disposal_action"),
    path("wants/", views.want_list, name="wants"),
    path("loans/", views.loan_list, name="loans"),
    path("loans/<int:pk>/<slug:action>/", views.loan_action, name="loan_action"),
    path("purchases/", views.purchase_list, name="purchases"),
    path("purchases/<int:pk>.pdf", views.purchase_pdf, name="purchase_pdf"),
    path("wants/<int:pk>/withdraw/", views.want_withdraw, name="want_withdraw"),
]
