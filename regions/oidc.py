"""Single sign-on through the unified identity service (统一登录、分级授权) with OpenID Connect, on
mozilla-django-oidc: the provider's (issuer, subject) maps to one local person (ExternalIdentity). A first
sign-in links the person whose verified email matches (an official already registered here) or creates a new
person without any role: roles are still granted here (delegation, access requests), never taken from the
provider's claims. Sign-in is refused while the person's jurisdiction is under an emergency stop."""
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from kernel import audit
from regions.models import ExternalIdentity
from regions.services.emergency import is_locked_out

USERNAME_MAX = 150


def enabled():
    """SSO is offered when a client is configured (OIDC_RP_CLIENT_ID)."""
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


class UnifiedIdentityBackend(OIDCAuthenticationBackend):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.issuer = settings.OIDC_OP_ISSUER

    def authenticate(self, request, **kwargs):
        if not enabled():
            return None

        user = super().authenticate(request, **kwargs)
        return None if user is not None and is_locked_out(user) else user

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        """The person linked to this subject (never several: the link is unique)."""
        return self.UserModel.objects.filter(external_identity__issuer=self.issuer,
                                             external_identity__subject=str(claims["sub"]), is_active=True)

    def _username(self, claims):
        base = re.sub(r"[^\w.@+-]", "", str(claims.get("preferred_username") or "")) or f"sso-{claims['sub']}"
        base, candidate, n = base[:USERNAME_MAX - 4], base[:USERNAME_MAX], 1
        while self.UserModel.objects.filter(username=candidate).exists():
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    @transaction.atomic
    def create_user(self, claims):
        """First sign-in: link the registered person with this verified email, else a new person (no role)."""
        email = (claims.get("email") or "").strip()
        user = None
        if email and claims.get("email_verified") is True and settings.OIDC_LINK_VERIFIED_EMAIL:
            matches = list(self.UserModel.objects.filter(email__iexact=email, is_active=True,
                                                         external_identity__isnull=True)[:2])
            user = matches[0] if len(matches) == 1 else None
        created = user is None
        if created:
            user = get_user_model().objects.create_user(self._username(claims), email=email)
            user.set_unusable_password()
            user.save(update_fields=["password"])
        identity = ExternalIdentity.objects.create(user=user, issuer=self.issuer, subject=str(claims["sub"]),
                                                   last_sign_in_at=timezone.now())
        self._fill_names(user, claims)
        audit.record(user, "identity.linked", identity, after={
            "issuer": self.issuer, "subject": identity.subject, "username": user.get_username(),
            "created": created})
        return user

    def update_user(self, user, claims):
        ExternalIdentity.objects.filter(user=user).update(last_sign_in_at=timezone.now())
        self._fill_names(user, claims)
        return user

    @staticmethod
    def _fill_names(user, claims):
        """Keep the display name the provider holds (given and family name, or the whole name)."""
        given = (claims.get("given_name") or "").strip() or (claims.get("name") or "").strip()
        family = (claims.get("family_name") or "").strip() if claims.get("given_name") else ""
        if given and (user.first_name, user.last_name) != (given[:150], family[:150]):
            user.first_name, user.last_name = given[:150], family[:150]
            user.save(update_fields=["first_name", "last_name"])
