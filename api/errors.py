"""Typed mutation errors and the base mutation: one transaction per mutation, domain errors become
`errors: [{field, code, message}]`, unexpected exceptions are logged with a request id and returned
as an opaque `internal` error carrying that id."""
import logging
import uuid

import graphene
from django.db import transaction
from graphql_relay import from_global_id, to_global_id

from api import idempotency
from kernel.errors import DomainError, NotFound

log = logging.getLogger("exchange.graphql")


class ErrorCode(graphene.Enum):
    INVALID = "invalid"
    REQUIRED = "required"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    INVALID_STATE = "invalid_state"
    ALREADY_ALLOCATED = "already_allocated"
    STANDARDS_BREACH = "standards_breach"
    PERIOD_CLOSED = "period_closed"
    LIMIT_EXCEEDED = "limit_exceeded"
    DUPLICATE = "duplicate"
    INTERNAL = "internal"


class MutationError(graphene.ObjectType):
    field = graphene.String(description="Input field at fault, or null for the whole input.")
    code = ErrorCode(required=True)
    message = graphene.String(required=True)


def errors_from(exc: DomainError):
    if exc.details:
        return [MutationError(field=d.get("field"), code=d.get("code", exc.code), message=d["message"])
                for d in exc.details]
    return [MutationError(field=exc.field, code=exc.code, message=exc.message)]


class DomainMutation(graphene.relay.ClientIDMutation):
    """Subclasses implement `perform(cls, info, **input)` returning the payload; it runs in one
    transaction that is rolled back on any error.

    Create-mutations set `idempotent = True`: they then accept an optional `idempotencyKey` and their
    payload has `replayed` (see exchange/graphql/idempotency.py); `idempotent_secret_fields` names payload
    fields that must never be stored (a replay returns them as null)."""

    errors = graphene.List(graphene.NonNull(MutationError), required=True)
    idempotent = False
    idempotent_secret_fields = ()

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(cls, input_fields=None, **options):
        inherited = getattr(cls, "Input", None)
        if isinstance(inherited, type) and issubclass(inherited, graphene.InputObjectType):
            # a subclass of a concrete mutation: reuse the parent's generated input fields
            input_fields = {**{name: field for name, field in inherited._meta.fields.items()
                               if name not in ("client_mutation_id", "idempotency_key")}, **(input_fields or {})}
            cls.Input = None
        if cls.idempotent:
            input_fields = {**(input_fields or {}), "idempotency_key": graphene.String(
                description="Optional client key (1–64 characters): a retry with the same key and input returns "
                            "the first result and changes nothing.")}
        super().__init_subclass_with_meta__(input_fields=input_fields, **options)
        if cls.idempotent:
            cls._meta.fields["replayed"] = graphene.Field(
                graphene.NonNull(graphene.Boolean),
                description="True when this is the stored result of an earlier call with the same idempotencyKey.")

    @classmethod
    def perform(cls, info, **data):
        raise NotImplementedError

    @classmethod
    def mutate_and_get_payload(cls, root, info, **data):
        data.pop("client_mutation_id", None)
        key = data.pop("idempotency_key", None) if cls.idempotent else None
        try:
            if key is not None:
                payload = idempotency.run(cls, info, key, data)
            else:
                with transaction.atomic():
                    payload = cls.perform(info, **data)
        except DomainError as exc:
            payload = cls(errors=errors_from(exc))
        except Exception:
            request_id = getattr(info.context, "request_id", None) or uuid.uuid4().hex
            log.exception("unexpected error in %s (request %s)", cls.__name__, request_id)
            payload = cls(errors=[MutationError(field=None, code="internal",
                                                message=f"Internal error; quote request id {request_id}.")])
        if payload.errors is None:
            payload.errors = []
        if cls.idempotent and getattr(payload, "replayed", None) is None:
            payload.replayed = False
        return payload


def decode_id(value, type_name, field):
    """Accept a relay global ID of `type_name` or a plain primary key; return the int pk."""
    if value is None:
        return None
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        kind, pk = from_global_id(text)
    except Exception:  # noqa: BLE001 - malformed base64 is just a bad id
        kind, pk = None, None
    if kind != type_name or not str(pk).isdigit():
        raise NotFound(f"Not a valid {type_name} id: {text}", field=field)
    return int(pk)


def global_id(type_name, pk):
    """The relay global ID of a `type_name` row, or None without a pk."""
    return None if pk is None else to_global_id(type_name, pk)
