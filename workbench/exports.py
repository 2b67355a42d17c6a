"""CSV and XLSX exports of the transfer search (openpyxl), headers in the reader's language, every cell
neutralised against formula injection, at most MAX_ROWS rows."""
import csv
import io

from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.spreadsheet import neutralise
from workbench.templatetags.workbench import local_name

MAX_ROWS = 10_000


def columns():
    return [_("Transfer"), _("Certificate number"), _("Status"), _("Item"), _("Quantity"),
            _("Original value moved (CNY)"), _("Distance (km)"), _("Giving agency"), _("Giving jurisdiction"),
            _("Receiving agency"), _("Receiving jurisdiction"), _("Allocated"), _("Completed")]


def _when(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def rows(transfers):
    for t in transfers[:MAX_ROWS]:
        yield [t.pk, t.certificate_code or "", str(t.get_status_display()), t.listing.title, t.quantity, t.value,
               t.distance_km, local_name(t.giver), local_name(t.giver_jurisdiction), local_name(t.receiver),
               local_name(t.receiver_jurisdiction), _when(t.allocated_at), _when(t.completed_at)]


def to_csv(transfers):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns())
    for row in rows(transfers):
        writer.writerow([neutralise(str(v)) for v in row])
    return out.getvalue().encode("utf-8-sig")  # BOM: Excel opens Chinese text correctly


def to_xlsx(transfers):
    from openpyxl import Workbook  # noqa: PLC0415 - heavy import, only for this export

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Transfers")[:31])
    sheet.append(columns())
    for row in rows(transfers):
        sheet.append([neutralise(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
