"""Two-factor sign-in doors (regions.two_factor holds the rule): at sign-in the session learns whether it must
confirm a one-time code (or enrol an authenticator first); until it has, every page, the admin and the
GraphQL endpoint refuse it, and only these pages and signing out open."""
import base64
from io import BytesIO
from urllib.parse import quote

from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.qr import write_qrcode_image

from regions import two_factor

PENDING = "two_factor_pending"  # session key: "verify" or "enrol" until a code is confirmed
OPEN_PATHS = ("/accounts/two-factor/", "/accounts/logout/", "/accounts/login/", "/static/", "/i18n/", "/healthz")


def _on_sign_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    step = two_factor.step_after_password(user)
    if step:
        request.session[PENDING] = step
    else:
        request.session.pop(PENDING, None)


user_logged_in.connect(_on_sign_in, dispatch_uid="workbench.two_factor")


class SecondFactorMiddleware:
    """A session that still owes its code reaches only the two-factor pages (HTML is sent there; GraphQL and
    other requests get 401)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        step = session.get(PENDING) if session is not None else None
        if step and not request.path.startswith(OPEN_PATHS):
            if request.path.startswith("/graphql") or request.method != "GET":
                return JsonResponse({"errors": [{"message": _("Confirm your one-time code first."),
                                                 "extensions": {"code": "NOT_AUTHENTICATED",
                                                                "reason": "two_factor_required"}}]}, status=401)
            page = "/accounts/two-factor/" if step == "verify" else "/accounts/two-factor/setup/"
            return redirect(f"{page}?next={quote(request.get_full_path())}")
        return self.get_response(request)


class CodeForm(forms.Form):
    token = forms.CharField(label=gettext_lazy("One-time code"), max_length=8,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                          "autofocus": True}))


def _next(request):
    target = request.POST.get("next") or request.GET.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}) else "/"


def _done(request, device):
    otp_login(request, device)
    request.session.pop(PENDING, None)
    return redirect(_next(request))


@login_required
def verify(request):
    """Confirm a code of the enrolled device."""
    devices = list(devices_for_user(request.user, confirmed=True))
    if not devices:
        return redirect(f"/accounts/two-factor/setup/?next={quote(_next(request))}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices:
            if device.verify_token(form.cleaned_data["token"].strip()):
                return _done(request, device)
        form.add_error("token", _("The code is wrong or has expired (or too many tries: wait a little)."))
    return render(request, "registration/two_factor.html", {"form": form, "next": _next(request), "setup": False},
                  status=400 if form.errors else 200)


@login_required
def setup(request):
    """Enrol an authenticator app (scan the QR code or type the key), confirmed by a first code."""
    if request.session.get(PENDING) == "verify":
        return redirect(f"/accounts/two-factor/?next={quote(_next(request))}")
    device = two_factor.pending_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.confirm_enrolment(request.user, device, form.cleaned_data["token"]):
            return _done(request, device)
        form.add_error("token", _("The code is wrong or has expired (or too many tries: wait a little)."))
    svg = BytesIO()
    write_qrcode_image(device.config_url, svg)
    return render(request, "registration/two_factor.html", {
        "form": form, "next": _next(request), "setup": True, "secret": base64.b32encode(device.bin_key).decode(),
        "qr": "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode(),
        "required": two_factor.required(request.user)}, status=400 if form.errors else 200)


@require_POST
def cancel(request):
    """Sign out from the half-open session."""
    logout(request)
    return redirect("/accounts/login/")
