from django.urls import path

from . import views

urlpatterns = [
    path("whoami/", views.whoami),
    path("visit/", views.visit),
    path("fragment/", views.fragment),
]
