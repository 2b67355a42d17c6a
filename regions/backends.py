"""Sign-in refused while every role of the person lies under an emergency stop of their jurisdiction (checked
at sign-in only; the stop itself ends the sessions already open)."""
from django.contrib.auth.backends import ModelBackend

from regions.services.emergency import is_locked_out


class EmergencyAwareModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        return None if user is not None and is_locked_out(user) else user
