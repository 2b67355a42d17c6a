"""Idempotent create-mutations, implemented once for every DomainMutation that sets `idempotent = True`.

Such a mutation accepts an optional `idempotencyKey` (1–64 characters) and its payload gains `replayed`.
The first successful call stores its payload in `regions.IdempotencyKey` (per caller — the API token, else
the user — operation and key) in the same transaction as the change itself. A retry with the same key and
the same input returns that payload (objects re-read by primary key) with `replayed: true` and changes
nothing; the same key with a different input is a `duplicate` error. A failed call stores nothing and may be
retried with the same key. Fields listed in `idempotent_secret_fields` (e.g. a token's plaintext key) are
never stored: a replay returns them as null.
"""
import datetime
import hashlib
import json
from decimal import Decimal

from django.apps import apps
from django.contrib.gis.geos import GEOSGeometry
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction

from api.limits import caller_key
from kernel.errors import NotAuthenticated, ValidationFailed
from regions.models import IdempotencyKey

KEY_FIELD = "idempotencyKey"
MAX_KEY_LENGTH = 64
NOT_STORED = ("errors", "client_mutation_id", "replayed")


def request_hash(data: dict) -> str:
    text = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def dump(value):
    """A payload value as JSON, tagged so that `load` can rebuild it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, models.Model):
        return {"$model": value._meta.label_lower, "pk": value.pk}
    if isinstance(value, GEOSGeometry):
        return {"$geometry": value.ewkt}
    if isinstance(value, list | tuple):
        return [dump(item) for item in value]
    if isinstance(value, dict):
        return {"$dict": {str(name): dump(item) for name, item in value.items()}}
    raise TypeError(f"cannot store a {type(value).__name__} in an idempotent payload")


def load(value):
    if isinstance(value, list):
        return [load(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$model" in value:
        model = apps.get_model(value["$model"])
        return model._default_manager.filter(pk=value["pk"]).first()
    if "$dict" in value:
        return {name: load(item) for name, item in value["$dict"].items()}
    (tag, text), = value.items()
    return {"$decimal": Decimal, "$datetime": datetime.datetime.fromisoformat, "$date": datetime.date.fromisoformat,
            "$geometry": GEOSGeometry}[tag](text)


def stored_fields(mutation):
    secret = set(getattr(mutation, "idempotent_secret_fields", ()))
    return [name for name in mutation._meta.fields if name not in NOT_STORED and name not in secret]


def run(mutation, info, key, data):
    """Perform `mutation` once per (caller, operation, key); see the module docstring."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed(f"An idempotency key has 1–{MAX_KEY_LENGTH} characters.", field=KEY_FIELD)
    user = getattr(info.context, "user", None)
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    lookup = {"owner": caller_key(info.context), "operation": mutation.__name__[:80], "key": key}
    digest = request_hash(data)
    try:
        with transaction.atomic():
            stored = IdempotencyKey.objects.select_for_update().filter(**lookup).first()
            if stored is not None:
                return replay(mutation, stored, digest)
            payload = mutation.perform(info, **data)
            response = {name: dump(getattr(payload, name, None)) for name in stored_fields(mutation)}
            IdempotencyKey.objects.create(**lookup, request_hash=digest, response=response)
            return payload
    except IntegrityError:  # a concurrent first call with the same key won; this one was rolled back
        stored = IdempotencyKey.objects.filter(**lookup).first()
        if stored is None:
            raise
        return replay(mutation, stored, digest)


def replay(mutation, stored, digest):
    if stored.request_hash != digest:
        raise ValidationFailed("This idempotency key was already used with a different input.", field=KEY_FIELD,
                               code="duplicate")
    values = {name: load(value) for name, value in stored.response.items() if name in mutation._meta.fields}
    return mutation(**values, replayed=True)
