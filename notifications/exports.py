"""The notification list as CSV (streamed) and XLSX (openpyxl, as the timeliness exports):
the rows the list shows for the same filters, in its order, every page of them.

One row per notification, headed by the columns' names as a person reads them; dates in
ISO 8601 (a date as 2026-12-16, an instant in UTC as 2026-12-02T15:20:00+00:00). Every text
cell goes through web.exports.spreadsheet_safe: exporter and importer names are typed by
other authorities' officers, and a spreadsheet must not run one as a formula."""

import io
import itertools
from datetime import UTC

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from web import exports as web_exports
from web.exports import spreadsheet_safe


def _items(notification) -> str:
    parts = []
    for item in notification.items.all():
        name = item.name or _("substance not given yet")
        quantity = f"{item.quantity.normalize():f}" if item.quantity is not None else ""
        parts.append(" ".join(part for part in (name, quantity, item.unit) if part))
    return "; ".join(parts)


def _name(related) -> str:
    return related.name if related is not None else ""


def _utc(instant):
    return instant.astimezone(UTC).replace(microsecond=0) if instant else None


# (heading, value of a row, kind). Kinds: "text", "date", "instant".
COLUMNS = [
    (gettext_lazy("Reference"), lambda n: n.reference, "text"),
    (gettext_lazy("Exporting authority's reference"), lambda n: n.national_reference, "text"),
    (gettext_lazy("Status"), lambda n: str(n.get_status_display()), "text"),
    (gettext_lazy("Exporting country"), lambda n: _name(n.exporting_country), "text"),
    (gettext_lazy("Exporting authority"), lambda n: _name(n.exporting_authority), "text"),
    (gettext_lazy("Exporter"), lambda n: n.exporter_name, "text"),
    (gettext_lazy("Importing country"), lambda n: _name(n.importing_country), "text"),
    (gettext_lazy("Importer"), lambda n: n.importer_name, "text"),
    (gettext_lazy("Items"), _items, "text"),
    (gettext_lazy("Reply due"), lambda n: n.reply_due, "date"),
    (gettext_lazy("Sent (UTC)"), lambda n: _utc(n.submitted_at), "instant"),
    (gettext_lazy("Kind"), lambda n: n.kind, "text"),
]


def headings() -> list[str]:
    return [str(label) for label, _value, _kind in COLUMNS]


def _text_cell(value, kind) -> str:
    if value is None or value == "":
        return ""
    if kind in ("date", "instant"):
        return value.isoformat()
    return spreadsheet_safe(str(value))


def csv_lines(rows):
    """The CSV, line by line (for a StreamingHttpResponse): the byte-order mark that tells
    spreadsheet programs it is UTF-8 (country and company names), the headings, the rows."""

    table = ([_text_cell(value(row), kind) for _label, value, kind in COLUMNS] for row in rows)
    yield from web_exports.csv_lines(itertools.chain([headings()], table), bom=True)


def to_xlsx(rows) -> bytes:
    """The workbook: one sheet, headings in bold and frozen, dates as dates shown in ISO."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    # Write-only: rows go to the file as they come, not held as a sheet in memory.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Notifications"))
    sheet.freeze_panes = "A2"
    for index, width in enumerate((18, 18, 20, 18, 28, 28, 18, 28, 40, 12, 20)):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    bold = Font(bold=True)
    heading_cells = []
    for label in headings():
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        heading_cells.append(cell)
    sheet.append(heading_cells)
    for row in rows:
        cells = []
        for _label, value, kind in COLUMNS:
            content = value(row)
            if kind == "instant" and content is not None:
                cell = WriteOnlyCell(sheet, value=content.replace(tzinfo=None))  # UTC, as the heading says
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif kind == "date" and content is not None:
                cell = WriteOnlyCell(sheet, value=content)
                cell.number_format = "yyyy-mm-dd"
            else:
                cell = WriteOnlyCell(sheet, value=_text_cell(content, kind) or None)
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
