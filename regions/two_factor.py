"""Two-factor sign-in (TOTP, django-otp): required, where the region asks for it (Region.two_factor_required),
of its coordinators and of anyone who may close its settlement periods; available to everyone else, and
asked for at every sign-in of whoever has enrolled a device."""
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from kernel import audit
from regions.membership import regions_of
from regions.models import Region, Role
from regions.permissions import WRITE_RULES, get_principal

# the actions whose holders must confirm a second factor (closing a settlement period)
SENSITIVE_ACTIONS = ("period.close",)


def regions_requiring(principal):
    """The regions in which the principal holds a role that calls for a second factor: coordinator, or one of
    the roles allowed a sensitive action (closing a settlement period) there."""
    roles = {Role.COORDINATOR} | {role for action in SENSITIVE_ACTIONS for role in WRITE_RULES[action]}
    regions = set(principal.coordinator_regions) if Role.COORDINATOR in roles else set()
    if Role.BUREAU_MANAGER in roles and principal.manager_roots:
        regions |= set(regions_of(principal.manager_roots))
    return regions


def required(user):
    """True when the user's roles in force call for a second factor in a region that requires it."""
    if user is None or not user.is_authenticated:
        return False
    principal = get_principal(user)
    if principal.token is not None:
        return False
    regions = regions_requiring(principal)
    return bool(regions) and Region.objects.filter(pk__in=regions, two_factor_required=True).exists()


def has_device(user):
    return any(True for _ in devices_for_user(user, confirmed=True))


def step_after_password(user):
    """What a new session must do before anything opens: "verify" a code of the enrolled device, "enrol" a
    device first (required, none yet), or nothing (None)."""
    if has_device(user):
        return "verify"
    return "enrol" if required(user) else None


def pending_device(user):
    """The user's unconfirmed TOTP device for enrolment (created once, reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)


@transaction.atomic
def confirm_enrolment(user, device, token):
    """Confirm the new device with a first code from the authenticator app; True when the code matched."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    if not device.verify_token((token or "").strip()):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit.record(user, "two_factor.enrolled", device, after={"device": device.name, "kind": "totp"})
    return True
