"""Typed domain errors. Services raise them; GraphQL turns them into {field, code, message} entries."""
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base of every expected, user-facing failure. `code` is a stable machine-readable value."""

    code = "invalid"
    default_message = _("The request is invalid.")

    def __init__(self, message=None, *, field=None, code=None, details=None):
        self.message = str(message or self.default_message)
        self.field = field
        if code:
            self.code = code
        self.details = details or []
        super().__init__(self.message)


class PermissionDenied(DomainError):
    code = "permission_denied"
    default_message = _("You are not allowed to do this.")


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    default_message = _("Sign in or send an API token.")


class NotFound(DomainError):
    code = "not_found"
    default_message = _("No such object, or it is outside your scope.")


class ValidationFailed(DomainError):
    code = "invalid"


class InvalidState(DomainError):
    code = "invalid_state"
    default_message = _("The object is not in a state that allows this.")


class AlreadyAllocated(DomainError):
    code = "already_allocated"
    default_message = _("This item has already been allocated.")


class StandardsBreach(DomainError):
    code = "standards_breach"
    default_message = _("The request breaches the standards in force.")


class LimitExceeded(DomainError):
    code = "limit_exceeded"


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    default_message = _("This cursor does not belong to this list and order; start again without one.")


# The public catalogue of error codes: the GraphQL `ErrorCode` enum, mutation `errors[].code`, query
# `extensions.code` and the REST endpoints all use these, spelled in upper case (`public_code`). Each entry:
# code -> (HTTP status when the request is refused as a whole, or None; meaning 中文 / English).
ERROR_CODES = {
    "invalid": (None, "输入值无效；`field`/`path` 指出哪一项 / A value is invalid; `field`/`path` name it"),
    "required": (None, "缺少必填项 / A required value is missing"),
    "not_authenticated": (401, "未登录或令牌无效、过期、已撤销 / No session or token, or the token is unknown, "
                               "expired or revoked"),
    "permission_denied": (403, "角色或令牌权限不允许（只读令牌写入也是）/ Your role or token scope does not allow "
                               "it (also a read-only token writing)"),
    "not_found": (404, "对象不存在或不在您的范围内 / No such object, or it is outside your scope"),
    "invalid_state": (409, "对象当前状态不允许此操作 / The object's state does not allow this"),
    "already_allocated": (None, "已被他人先分配 / Someone else got the item first"),
    "standards_breach": (None, "超出现行配置标准（每项超限一条）/ The request breaches the standards in force (one "
                               "error per breach)"),
    "period_closed": (None, "结算期已关闭 / The settlement period is closed"),
    "duplicate": (None, "重复：幂等键已用于不同输入，或记录已存在 / Duplicate: an idempotency key reused with a "
                        "different input, or the record exists"),
    "invalid_cursor": (None, "游标不属于此列表或排序 / The cursor belongs to another list or order"),
    "limit_exceeded": (400, "超出深度、成本、页大小、批量或请求体上限（HTTP 400/413）/ Depth, cost, page size, batch "
                            "or body size over the limit (HTTP 400/413)"),
    "rate_limited": (429, "请求过于频繁，见 Retry-After / Too many requests; see Retry-After"),
    "introspection_disabled": (400, "生产环境关闭了内省 / Introspection is off in production"),
    "operation_not_allowed": (400, "生产环境只接受已登记的操作 / Only registered (persisted) operations are "
                                   "accepted in production"),
    "invalid_query": (400, "查询文档无效（语法、未知字段、错误的枚举值或类型）/ The query document is invalid "
                           "(syntax, unknown field, wrong enum value or type)"),
    "bad_request": (400, "请求体不是有效的 GraphQL 请求 / The body is not a valid GraphQL request"),
    "method_not_allowed": (405, "HTTP 方法不允许 / HTTP method not allowed"),
    "csrf_failed": (403, "浏览器会话缺少 CSRF 令牌（X-CSRFToken）/ A browser session sent no CSRF token "
                         "(X-CSRFToken)"),
    "internal": (500, "意外错误；请引用 requestId / Unexpected failure; quote the requestId"),
}


def public_code(code) -> str:
    """The public spelling of an error code (upper case); an unknown code is reported as INVALID."""
    text = str(getattr(code, "value", code) or "invalid").lower()
    return (text if text in ERROR_CODES else "invalid").upper()
