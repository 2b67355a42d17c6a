"""Readable names of audit trail events (the stored `action` stays a stable code)."""
from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "approval.opened": _("approval step opened"),
    "approval.reminded": _("approval reminder sent"),
    "approval.approved": _("approval step approved"),
    "approval.refused": _("approval step refused"),
    "approval.closed": _("approval step closed"),
    "asset.imported": _("asset imported"),
    "asset.photo_added": _("asset photo added"),
    "asset.registered": _("asset registered"),
    "import.finished": _("import finished"),
    "import.queued": _("import queued"),
    "ledger.compensation_posted": _("compensation posted"),
    "ledger.compensation_skipped": _("compensation not posted"),
    "ledger.payment_confirmed": _("payment confirmed"),
    "ledger.period_closed": _("settlement period closed"),
    "ledger.rent_posted": _("rent-equivalent posted"),
    "listing.edited": _("listing corrected"),
    "listing.opened": _("listed in the warehouse"),
    "listing.withdrawn": _("listing withdrawn"),
    "office_space.registered": _("office space registered"),
    "report.downloaded": _("report downloaded"),
    "report.requested": _("report requested"),
    "report.retried": _("report retried"),
    "report.done": _("report generated"),
    "report.failed": _("report failed"),
    "request.created": _("request submitted"),
    "request.not_allocated": _("request not allocated"),
    "request.withdrawn": _("request withdrawn"),
    "settling_level.set": _("settling level set"),
    "standards.version_created": _("standards version created"),
    "standards.version_edited": _("standards version edited"),
    "token.create": _("API token created"),
    "token.revoke": _("API token revoked"),
    "transfer.allocated": _("transfer allocated"),
    "transfer.approved": _("transfer approved"),
    "transfer.cancelled": _("transfer cancelled"),
    "transfer.certificate_code": _("certificate number issued"),
    "transfer.completed": _("handover confirmed, transfer completed"),
    "transfer.refused": _("transfer refused"),
}


def event_label(action):
    return EVENT_LABELS.get(action, action)
