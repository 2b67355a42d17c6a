"""API tokens for member-city systems: created by a bureau manager, shown once, stored hashed."""
import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from kernel import audit
from kernel.errors import NotAuthenticated, ValidationFailed
from regions.models import ApiToken
from regions.permissions import principal_for_token, require
from regions.scope import Scope

TOKEN_PREFIX = "gwc_"
MAX_DAYS = 366


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_token(user, jurisdiction, *, name, can_write=False, days=90):
    """Return (token, plaintext key); the key is never stored and cannot be shown again."""
    require(user, "token.manage", jurisdiction_scope(jurisdiction))
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A token needs a name."), field="name", code="required")
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"Validity must be 1–{MAX_DAYS} days.", field="days")
    secret = secrets.token_urlsafe(32)
    prefix = secrets.token_hex(4)
    key = f"{TOKEN_PREFIX}{prefix}_{secret}"
    token = ApiToken.objects.create(
        jurisdiction=jurisdiction, name=name, prefix=prefix, key_hash=hash_key(key), can_write=can_write,
        created_by=user, expires_at=timezone.now() + timedelta(days=days),
    )
    audit.record(user, "token.create", token, after={"name": name, "prefix": prefix, "write": can_write},
                 jurisdiction=jurisdiction)
    return token, key


def revoke_token(user, token):
    require(user, "token.manage", token)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(user, "token.revoke", token, after={"revoked_at": token.revoked_at},
                     jurisdiction=token.jurisdiction)
    return token


def jurisdiction_scope(jurisdiction):
    return Scope(jurisdiction_id=jurisdiction.pk)


def authenticate(key: str):
    """Return the user acting through the token (with the token's narrowed principal attached)."""
    token = (ApiToken.objects.select_related("created_by").filter(key_hash=hash_key(key)).first()
             if key.startswith(TOKEN_PREFIX) else None)
    now = timezone.now()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise NotAuthenticated("The API token is unknown, expired or revoked.")
    if token.suspended_at is not None:
        raise NotAuthenticated(_("The API token is suspended by an emergency stop of its jurisdiction."))
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    user = token.created_by
    user._principal = principal_for_token(token)
    user.api_token = token
    return user


def request_user(request):
    """The caller of a plain view: `Authorization: Bearer gwc_…` (a token) or the session's user."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return authenticate(header.removeprefix("Bearer ").strip())
    if not request.user.is_authenticated:
        raise NotAuthenticated()
    return request.user
