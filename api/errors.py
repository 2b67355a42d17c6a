"""Typed mutation errors and the base mutation: one transaction per mutation, domain errors become
`errors: [{field, path, code, message}]`, unexpected exceptions are logged with a request id and returned
as an opaque `internal` error carrying that id."""
import logging
import uuid
from enum import Enum as PyEnum

import graphene
from django.db import transaction
from graphene.utils.str_converters import to_camel_case
from graphql_relay import from_global_id, to_global_id

from api import idempotency, limits
from kernel import bounds, retry
from kernel.errors import ERROR_CODES, DomainError, NotFound, public_code

log = logging.getLogger("exchange.graphql")


def _error_code_enum():
    members = PyEnum("ErrorCode", [(code.upper(), code.upper()) for code in ERROR_CODES], type=str)

    def describe(member):
        if member is None:
            return ("错误代码 Error code: the same values in mutation `errors[].code`, query `extensions.code` and "
                    "the REST endpoints.")
        return ERROR_CODES[member.value.lower()][1]

    return graphene.Enum.from_enum(members, name="ErrorCode", description=describe)


ErrorCode = _error_code_enum()


class MutationError(graphene.ObjectType):
    """错误 One reason a mutation changed nothing."""

    field = graphene.String(description="Input field at fault (its last path element), or null for the whole input.")
    path = graphene.List(graphene.NonNull(graphene.String),
                         description="Path of the input field at fault from the mutation's input (list indexes as "
                                     "strings), or null for the whole input.")
    code = ErrorCode(required=True)
    message = graphene.String(required=True)


def mutation_error(code, message, field=None, path=None):
    """A MutationError with the public code and camelCase field names."""
    path = [to_camel_case(str(part)) for part in path] if path else ([to_camel_case(field)] if field else None)
    return MutationError(field=path[-1] if path else None, path=path, code=public_code(code), message=str(message))


def errors_from(exc: DomainError):
    if exc.details:
        return [mutation_error(d.get("code", exc.code), d["message"], d.get("field"), d.get("path"))
                for d in exc.details]
    return [mutation_error(exc.code, exc.message, exc.field)]


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
    def _run(cls, info, key, data):
        if key is not None:
            return idempotency.run(cls, info, key, dict(data))
        with transaction.atomic():
            return cls.perform(info, **data)

    @classmethod
    def mutate_and_get_payload(cls, root, info, **data):
        data.pop("client_mutation_id", None)
        key = data.pop("idempotency_key", None) if cls.idempotent else None
        try:
            bounds.check_inputs({**data, "idempotency_key": key})
            payload = retry.with_retry(lambda: cls._run(info, key, data))
        except DomainError as exc:
            payload = cls(errors=errors_from(exc))
        except Exception as exc:
            if limits.over_budget(exc):  # the request's time budget ran out inside the transaction
                payload = cls(errors=[mutation_error("limit_exceeded", limits.budget_error().message)])
            else:
                request_id = getattr(info.context, "request_id", None) or uuid.uuid4().hex
                log.exception("unexpected error in %s (request %s)", cls.__name__, request_id)
                payload = cls(errors=[mutation_error("internal", f"Internal error; quote request id {request_id}.")])
        if payload.errors is None:
            payload.errors = []
        if cls.idempotent and getattr(payload, "replayed", None) is None:
            payload.replayed = False
        return payload


def decode_id(value, type_name, field):
    """The int pk of a relay global ID of `type_name`; anything else (a plain pk, another type's ID, garbage) is
    `not_found` on `field`."""
    if value is None:
        return None
    text = str(value)
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


TABLE_START, TABLE_END = "<!-- error-codes:start (generated by `make schema`) -->", "<!-- error-codes:end -->"


def error_code_table():
    """The README's table of error codes, generated from the ErrorCode enum."""
    rows = ["| code | HTTP | meaning |", "|---|---|---|"]
    for name, value in ErrorCode._meta.enum.__members__.items():
        status, meaning = ERROR_CODES[value.value.lower()]
        rows.append(f"| `{name}` | {status or '200'} | {meaning} |")
    return "\n".join(rows)


def with_error_code_table(text):
    """`text` (a README) with the part between the table markers replaced by the generated table."""
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    return f"{text[:start]}\n{error_code_table()}\n{text[end:]}"
