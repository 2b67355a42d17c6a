"""The /graphql/ endpoint: session login for people, `Authorization: Bearer gwc_…` for systems.

Before anything is executed a request is checked against the limits (body size → 413, authentication →
401, CSRF for browser sessions → 403, batch size → 400, per-caller rate → 429 with Retry-After, then depth,
cost and introspection as validation rules → 400). Every error in a response carries `extensions.code`;
an unexpected exception is logged with the request id and answered with an opaque `internal` error that
quotes the id (also sent as the `X-Request-Id` response header).
"""
import json
import logging
import re
import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene.utils.str_converters import to_camel_case
from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView, HttpError

from api import documents, limits, persisted
from api.execution import ExecutionContext
from api.limits import caller_key
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast, validate_schema
from kernel.errors import DomainError, NotAuthenticated, public_code
from regions.services.tokens import authenticate

log = logging.getLogger("exchange.graphql")
SUGGESTION = re.compile(r" Did you mean .*\?$")  # graphql-core's hint, which maps the schema for a guesser
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class ContractError(HttpError):
    """A refusal before execution: an HTTP status and `{"errors": [{message, extensions: {code, …}}]}`."""

    def __init__(self, status, code, message, headers=None, **extensions):
        response = HttpResponse(status=status, content_type="application/json")
        for name, value in (headers or {}).items():
            response[name] = value
        super().__init__(response, message)
        self.extensions = {"code": code, **extensions}


@method_decorator(csrf_exempt, name="dispatch")
class ExchangeGraphQLView(GraphQLView):
    graphiql_template = "graphiql/offline.html"  # GraphiQL from our static files, never from a CDN
    execution_context_class = ExecutionContext  # attribute-read fields skip graphql-core's per-field work

    def dispatch(self, request, *args, **kwargs):
        client_id = request.headers.get("X-Request-Id", "")
        request.request_id = client_id if CLIENT_REQUEST_ID.fullmatch(client_id) else uuid.uuid4().hex
        try:
            self.check_body_size(request)
            self.authenticate(request)
            response = super().dispatch(request, *args, **kwargs)
        except ContractError as exc:
            response = exc.response
            response.content = self.json_encode(request, {"errors": [self.format_error(exc)]})
        response["X-Request-Id"] = request.request_id
        headers = getattr(request, "rate_limit_headers", None) or limits.rate_headers(caller_key(request))
        for name, value in headers.items():
            response[name] = value
        return response

    # --- checks before execution ------------------------------------------------------------------------

    @staticmethod
    def check_body_size(request):
        maximum = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if maximum is not None and length > maximum:
            raise ContractError(413, "limit_exceeded", f"The request body exceeds {maximum} bytes.",
                                limit="body_size", maximum=maximum, actual=length)

    @staticmethod
    def authenticate(request):
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            try:
                request.user = authenticate(header.removeprefix("Bearer ").strip())
            except NotAuthenticated as exc:
                raise ContractError(401, exc.code, exc.message) from exc
        elif request.method == "POST" and request.user.is_authenticated:
            # A browser session: the view is csrf_exempt for token clients, so sessions are checked here.
            if CsrfViewMiddleware(lambda _request: None).process_view(request, None, (), {}) is not None:
                raise ContractError(403, "csrf_failed", "CSRF check failed: send the X-CSRFToken header with a "
                                                        "session, or use an API token.")

    def parse_body(self, request):
        try:
            if self.get_content_type(request) == "application/json":
                data = self.parse_json(request)
            else:
                data = super().parse_body(request)
        except RequestDataTooBig as exc:
            maximum = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            raise ContractError(413, "limit_exceeded", f"The request body exceeds {maximum} bytes.",
                                limit="body_size", maximum=maximum) from exc
        self.charge(request, len(data) if isinstance(data, list) else 1)
        return data

    def parse_json(self, request):
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ContractError(400, "bad_request", "The body is not valid JSON.") from exc
        if isinstance(data, list):  # a batch: several operations, answered as a list in the same order
            maximum = settings.GRAPHQL_MAX_BATCH
            if not data or not all(isinstance(entry, dict) for entry in data):
                raise ContractError(400, "bad_request", "A batch is a non-empty list of {query, variables} objects.")
            if len(data) > maximum:
                raise ContractError(400, "limit_exceeded", f"A batch may hold at most {maximum} operations "
                                    f"(got {len(data)}).", limit="batch", maximum=maximum, actual=len(data))
            self.batch = True
            return data
        if not isinstance(data, dict):
            raise ContractError(400, "bad_request", "The body must be a JSON object {query, variables}.")
        return data

    @staticmethod
    def charge(request, operations):
        wait, request.rate_limit_headers = limits.meter(caller_key(request), operations)
        if wait is not None:
            raise ContractError(429, "rate_limited",
                                f"Rate limit {settings.GRAPHQL_TOKEN_RATE} exceeded; retry in {wait} s.",
                                headers={"Retry-After": str(wait)}, retryAfter=wait)

    @staticmethod
    def get_graphql_params(request, data):
        query, variables, operation_name, id_ = GraphQLView.get_graphql_params(request, data)
        if persisted.enabled() and not (request.method == "GET" and not query and not operation_name):
            document = persisted.allowed_document(query, operation_name)
            if document is None:
                raise ContractError(400, "operation_not_allowed",
                                    "This server runs registered operations only: send the `operationName` of one "
                                    "of graphql/operations/ (and its document, or none).")
            query = document
        return query, variables, operation_name, id_

    # --- execution --------------------------------------------------------------------------------------

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        with limits.time_budget():
            result = self.run_document(request, query, variables if isinstance(variables, dict) else None,
                                       operation_name, show_graphiql)
        if result is not None and result.errors:
            result.errors = [self.typed_error(request, error) for error in result.errors]
        return result

    def run_document(self, request, query, variables, operation_name, show_graphiql):
        """graphene-django's execution with the document parsed and validated once per process
        (api.documents) instead of on every request."""
        if not query:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseBadRequest("Must provide query string."))
        too_big = documents.size_error(query) if isinstance(query, str) else None
        if too_big is not None:
            return ExecutionResult(data=None, errors=[too_big])
        schema = self.schema.graphql_schema
        schema_errors = validate_schema(schema)
        if schema_errors:
            return ExecutionResult(data=None, errors=schema_errors)
        document, syntax_error = documents.parse_document(query)
        if syntax_error is not None:
            return ExecutionResult(errors=[syntax_error])
        operation = get_operation_ast(document, operation_name)
        if request.method.lower() == "get" and operation is not None and operation.operation != OperationType.QUERY:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseNotAllowed(
                ["POST"], f"Can only perform a {operation.operation.value} operation from a POST request."))
        errors = documents.validation_errors(schema, query, variables)
        if errors:
            return ExecutionResult(data=None, errors=errors)
        options = {"root_value": self.get_root_value(request), "context_value": self.get_context(request),
                   "variable_values": variables, "operation_name": operation_name,
                   "middleware": self.get_middleware(request)}
        if self.execution_context_class:
            options["execution_context_class"] = self.execution_context_class
        options["is_awaitable"] = _synchronous
        try:
            if operation is not None and operation.operation == OperationType.MUTATION and (
                    graphene_settings.ATOMIC_MUTATIONS is True
                    or connection.settings_dict.get("ATOMIC_MUTATIONS", False) is True):
                with transaction.atomic():
                    result = execute(schema, document, **options)
                    if getattr(request, MUTATION_ERRORS_FLAG, False) is True:
                        transaction.set_rollback(True)
                return result
            return execute(schema, document, **options)
        except Exception as exc:  # noqa: BLE001 - graphene-django's contract: reported as a GraphQL error
            return ExecutionResult(errors=[exc])

    @staticmethod
    def typed_error(request, error):
        """Every error gets an `extensions.code`; unexpected exceptions become an opaque `internal` error."""
        original = error.original_error if isinstance(error, GraphQLError) else error
        if isinstance(error, GraphQLError) and (original is None or isinstance(original, GraphQLError)):
            if not settings.GRAPHQL_FIELD_SUGGESTIONS and SUGGESTION.search(error.message):
                error = GraphQLError(SUGGESTION.sub("", error.message), error.nodes, error.source, error.positions,
                                     error.path, original, error.extensions)
            if (error.extensions or {}).get("code"):
                return error
            code = "invalid_query" if error.path is None else "invalid"
            return GraphQLError(error.message, error.nodes, error.source, error.positions, error.path, original,
                                {**(error.extensions or {}), "code": code})
        nodes, path = (error.nodes, error.path) if isinstance(error, GraphQLError) else (None, None)
        if limits.over_budget(original):
            return limits.budget_error(nodes, path)
        if isinstance(original, DomainError):
            return GraphQLError(original.message, nodes, path=path,
                                extensions={"code": original.code, "field": original.field})
        if _raised_by_relay_node(original):  # malformed or foreign global ID in node(id:)
            return GraphQLError(str(original), nodes, path=path, extensions={"code": "not_found"})
        log.error("unexpected error at %s (request %s)", path, request.request_id,
                  exc_info=(type(original), original, original.__traceback__))
        return GraphQLError(f"Internal error; quote request id {request.request_id}.", nodes, path=path,
                            extensions={"code": "internal", "requestId": request.request_id})

    @staticmethod
    def format_error(error):
        """`{message, locations, path, extensions: {code, …}}` with the code in its public spelling (ErrorCode)."""
        if isinstance(error, ContractError):
            formatted = {"message": error.message, "extensions": dict(error.extensions)}
        elif isinstance(error, HttpError):  # graphene's own refusals: GET mutation, wrong method, no query
            code = "method_not_allowed" if error.response.status_code == 405 else "bad_request"
            formatted = {"message": error.message, "extensions": {"code": code}}
        else:
            formatted = GraphQLView.format_error(error)
        extensions = formatted.setdefault("extensions", {})
        extensions["code"] = public_code(extensions.get("code"))
        if extensions.get("field"):
            extensions["field"] = to_camel_case(extensions["field"])
        return formatted


def _synchronous(_value):
    """Under WSGI every resolver returns a value, never an awaitable: graphql-core need not inspect each one."""
    return False


def _raised_by_relay_node(exc):
    if str(exc).startswith(("Unable to parse global ID", "Relay Node ")):  # graphene's node(id:) refusals
        return True
    traceback = exc.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback is not None and PurePath(traceback.tb_frame.f_code.co_filename).match("graphene/relay/node.py")
