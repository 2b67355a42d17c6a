"""The text of each kind of notification, rendered with gettext at read time so every reader gets their
own language. Parameters are plain values stored on the notification."""
from django.utils.translation import gettext as _

TEMPLATES = {
    "step_opened": lambda: _("Transfer #%(transfer)s (%(title)s) awaits your approval by %(due)s."),
    "step_yellow": lambda: _("Yellow light: your approval of transfer #%(transfer)s (%(title)s) is due by %(due)s."),
    "step_red": lambda: _("Red light: your approval of transfer #%(transfer)s (%(title)s) was due on %(due)s."),
    "request_allocated": lambda: _("Your request for %(title)s was allocated: transfer #%(transfer)s."),
    "request_refused": lambda: _("Your request for %(title)s was not allocated. %(reason)s"),
    "handover_awaiting": lambda: _("Transfer #%(transfer)s (%(title)s) is approved and awaits your handover."),
    "want_matched": lambda: _("An item matching your want “%(want)s” is listed %(km)s km away: %(title)s."),
    "loan_due": lambda: _("Loan #%(loan)s (%(title)s) is due back on %(due)s."),
    "loan_overdue": lambda: _("Loan #%(loan)s (%(title)s) is overdue since %(due)s."),
    "disposal_pending": lambda: _("Nobody claimed %(title)s in the regional window: propose its disposal."),
    "duty_assigned": lambda: _("%(by)s made you responsible for a %(stage)s stage (due %(due)s)."),
    "duty_escalated": lambda: _("A %(stage)s stage of %(scope)s is overdue since %(due)s (responsible: "
                                "%(responsible)s)."),
    "access_requested": lambda: _("%(requester)s asks for the role %(role)s on %(scope)s (decide by %(due)s): "
                                  "%(reason)s"),
    "access_granted": lambda: _("Your request for the role %(role)s on %(scope)s was granted: %(reason)s"),
    "access_refused": lambda: _("Your request for the role %(role)s on %(scope)s was refused: %(reason)s"),
    "disposal_proposed": lambda: _("%(agency)s proposes to dispose of %(title)s (%(method)s): approval needed."),
    "disposal_decided": lambda: _("The disposal of %(title)s was %(decision)s."),
    "purchase_answered": lambda: _("Purchase check #%(purchase)s (%(class_code)s ×%(quantity)s): %(outcome)s."),
    "loan_returned": lambda: _("Loan #%(loan)s (%(title)s) was returned; fee %(fee)s CNY."),
    "loan_approval_opened": lambda: _("%(borrower)s asks to borrow %(title)s (loan #%(loan)s): your approval is "
                                      "due by %(due)s."),
    "loan_approval_yellow": lambda: _("Yellow light: your approval of loan #%(loan)s (%(title)s) is due by "
                                      "%(due)s."),
    "loan_approval_red": lambda: _("Red light: your approval of loan #%(loan)s (%(title)s) was due on %(due)s."),
}


# parameters stored as codes, shown as words of the reader's language
CODE_LABELS = {
    "method": lambda: {"auction": _("auction"), "scrap": _("scrapping"), "donation": _("donation")},
    "decision": lambda: {"approved": _("approved"), "refused": _("refused")},
    "outcome": lambda: {"take_instead": _("take these warehouse items instead"),
                        "may_buy": _("nothing suitable in the warehouse; you may buy"),
                        "refused": _("refused by the standards"),
                        "exception_granted": _("purchase exception granted")},
    "stage": lambda: {"allocation": _("pending allocation"), "approval": _("approval"), "handover": _("handover"),
                      "payment": _("settlement payment"), "access": _("access request")},
}


class _Lenient(dict):
    def __missing__(self, key):
        return "?"


def render(kind, params):
    template = TEMPLATES.get(kind)
    if template is None:
        return kind
    params = dict(params or {})
    for name, labels in CODE_LABELS.items():
        if name in params:
            params[name] = labels().get(params[name], params[name])
    if kind == "request_refused" and not params.get("reason"):
        params["reason"] = _("Other requests were served first.")
    return template() % _Lenient(params)


def subject(kind, params):
    return f"[公物仓] {render(kind, params)}"[:180]
