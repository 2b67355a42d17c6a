"""Emergency stop of a jurisdiction (制定应急预案…及时止损): in one transaction, at one instant, the sessions of
everyone whose roles lie in the jurisdiction (and below) are ended, its API tokens suspended and its webhooks
paused; signing in again is refused while the stop lasts. Lifting restores the tokens that have not expired."""
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel import audit
from kernel.errors import InvalidState, ValidationFailed
from regions.membership import descendants
from regions.models import ApiToken, EmergencyStop, Jurisdiction, RoleBinding
from regions.permissions import Scope, require


def stopped_jurisdiction_ids():
    """Jurisdictions under an open stop, with their descendants (webhook delivery and sign-in consult this)."""
    roots = list(EmergencyStop.objects.filter(lifted_at__isnull=True).values_list("jurisdiction_id", flat=True))
    return descendants(roots) if roots else frozenset()


def is_stopped(jurisdiction_id):
    """True while the jurisdiction (or an ancestor) is under an emergency stop: webhooks to it are paused."""
    return jurisdiction_id in stopped_jurisdiction_ids()


def _people_of(jurisdiction_ids):
    """Ids of the users whose roles in force lie in these jurisdictions (bureau roles, agency staff)."""
    return set(RoleBinding.objects.active().filter(
        Q(jurisdiction_id__in=jurisdiction_ids) | Q(agency__jurisdiction_id__in=jurisdiction_ids))
        .values_list("user_id", flat=True))


def is_locked_out(user):
    """True for someone whose every role in force lies under an open stop (sign-in is refused)."""
    stopped = stopped_jurisdiction_ids()
    if not stopped:
        return False
    bindings = RoleBinding.objects.active().filter(user=user).select_related("agency")
    scopes = [b.jurisdiction_id or (b.agency.jurisdiction_id if b.agency_id else None) for b in bindings]
    return bool(scopes) and all(s in stopped for s in scopes)


def _end_sessions(user_ids, now, keep_key=None):
    ended = []
    for session in Session.objects.filter(expire_date__gt=now).iterator():
        if session.session_key == keep_key:
            continue
        if str(session.get_decoded().get("_auth_user_id")) in {str(u) for u in user_ids}:
            ended.append(session.session_key)
    Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


@transaction.atomic
def stop_jurisdiction(user, jurisdiction, *, reason, keep_session_key=None):
    """Stop the jurisdiction now. The caller (a coordinator of its region, or its own bureau) keeps the
    session it acts from. Returns the stop."""
    require(user, "emergency.stop", Scope(jurisdiction_id=jurisdiction.pk))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("An emergency stop needs a reason."), field="reason", code="required")
    Jurisdiction.objects.select_for_update().filter(pk=jurisdiction.pk).first()
    if EmergencyStop.objects.filter(jurisdiction=jurisdiction, lifted_at__isnull=True).exists():
        raise InvalidState(_("This jurisdiction is already stopped."), field="jurisdiction_code")
    now = timezone.now()
    stop = EmergencyStop.objects.create(jurisdiction=jurisdiction, reason=reason, started_by=user, started_at=now)
    affected = descendants([jurisdiction.pk])
    tokens = list(ApiToken.objects.filter(jurisdiction_id__in=affected, revoked_at__isnull=True,
                                          suspended_at__isnull=True, expires_at__gt=now).values_list("pk", flat=True))
    ApiToken.objects.filter(pk__in=tokens).update(suspended_at=now, suspended_by=stop)
    stop.sessions_ended = _end_sessions(_people_of(affected), now, keep_key=keep_session_key)
    stop.save(update_fields=["sessions_ended"])
    audit.record(user, "emergency.stopped", stop, after={
        "jurisdiction": jurisdiction.code, "reason": reason, "at": now, "tokens_suspended": tokens,
        "sessions_ended": stop.sessions_ended, "webhooks": "paused"}, jurisdiction=jurisdiction)
    return stop


@transaction.atomic
def lift_stop(user, stop, *, reason):
    """Lift the stop: tokens it suspended that have not expired (nor been revoked) work again; people sign in
    again."""
    stop = EmergencyStop.objects.select_for_update().select_related("jurisdiction").get(pk=stop.pk)
    require(user, "emergency.stop", stop)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Lifting a stop needs a reason."), field="reason", code="required")
    if stop.lifted_at is not None:
        raise InvalidState(_("This stop was already lifted."), field="stop_id")
    now = timezone.now()
    restored = list(stop.tokens.filter(revoked_at__isnull=True, expires_at__gt=now).values_list("pk", flat=True))
    ApiToken.objects.filter(pk__in=restored).update(suspended_at=None, suspended_by=None)
    stop.lifted_by, stop.lifted_at, stop.lift_reason = user, now, reason
    stop.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
    audit.record(user, "emergency.lifted", stop, before={"stopped_at": stop.started_at}, after={
        "jurisdiction": stop.jurisdiction.code, "reason": reason, "tokens_restored": restored,
        "webhooks": "resumed"}, jurisdiction=stop.jurisdiction)
    return stop
