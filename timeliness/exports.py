"""The timeliness table as CSV and XLSX (openpyxl), for INCB's reports.

Both state the period, the exporting-country filter and when they were generated, above
the table; the XLSX adds a second sheet with the definitions. Rates are fractions between
0 and 1 (formatted as percentages in the XLSX), empty when nothing was due; days are
decimals, empty when nothing was answered.

The reconciliation of shipments (``reconciliation_csv``) is a CSV of its own: the period
(by dispatch date), the filters and the time of generation above the page's table.
Quantities are decimals with a point, in kg or l as the row's unit says."""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext as _

from web.exports import spreadsheet_safe

from . import reconciliation
from .stats import COLUMNS, DEFINITIONS, CountryFigures


@dataclass
class ExportContext:
    period_from: date
    period_to: date
    period_label: str
    generated_at: datetime
    exporting_country: str = ""
    exporting_country_name: str = ""

    def preamble(self) -> list[tuple[str, str]]:
        exporting = (
            f"{self.exporting_country_name} ({self.exporting_country})".strip()
            if self.exporting_country
            else _("All exporting countries")
        )
        return [
            (_("Report"), _("PEN Portal: timeliness of replies to pre-export notifications, by importing country")),
            (_("Period"), self.period_label),
            (_("Reply due from"), self.period_from.isoformat()),
            (_("Reply due to"), self.period_to.isoformat()),
            (_("Exporting country"), exporting),
            (_("Generated at"), self.generated_at.isoformat(timespec="seconds")),
        ]


# Text that a spreadsheet would take for a formula is quoted (CSV injection): the one rule
# of every export, in web.exports.
_safe = spreadsheet_safe


def _value(row: CountryFigures, attribute: str):
    return getattr(row, attribute)


def to_csv(rows: list[CountryFigures], context: ExportContext) -> str:
    """Header rows (label, value), an empty row, then the table with a heading row."""
    buffer = io.StringIO()
    # The byte-order mark tells spreadsheet programs the file is UTF-8 (country names).
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for label, value in context.preamble():
        writer.writerow([_safe(str(label)), _safe(str(value))])
    writer.writerow([])
    writer.writerow([str(label) for _attribute, label, _kind in COLUMNS])
    for row in rows:
        writer.writerow(["" if _value(row, a) is None else _safe(_value(row, a)) for a, _label, _kind in COLUMNS])
    return buffer.getvalue()


def to_xlsx(rows: list[CountryFigures], context: ExportContext) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Timeliness")
    bold = Font(bold=True)
    sheet.append([str(context.preamble()[0][1])])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in context.preamble()[1:]:
        sheet.append([str(label), str(value)])
        sheet.cell(row=sheet.max_row, column=1).font = bold
    sheet.append([])
    heading_row = sheet.max_row + 1
    sheet.append([str(label) for _attribute, label, _kind in COLUMNS])
    fill = PatternFill("solid", fgColor="E8ECF0")
    for cell in sheet[heading_row]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append([_safe(_value(row, attribute)) for attribute, _label, _kind in COLUMNS])
        for index, (_attribute, _label, kind) in enumerate(COLUMNS, start=1):
            cell = sheet.cell(row=sheet.max_row, column=index)
            if kind == "rate":
                cell.number_format = "0.0%"
            elif kind == "days":
                cell.number_format = "0.0"
    sheet.freeze_panes = sheet.cell(row=heading_row + 1, column=3)
    widths = {"text": 12, "count": 12, "rate": 12, "days": 14}
    for index, (attribute, _label, kind) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 28 if attribute == "country_name" else widths[kind]
    sheet.column_dimensions["A"].width = 22

    about = workbook.create_sheet(_("About"))
    for label, value in context.preamble():
        about.append([str(label), str(value)])
        about.cell(row=about.max_row, column=1).font = bold
    about.append([])
    about.append([_("Definitions")])
    about.cell(row=about.max_row, column=1).font = Font(bold=True, size=12)
    for term, text in DEFINITIONS:
        about.append([str(term), str(text)])
        about.cell(row=about.max_row, column=1).font = bold
        about.cell(row=about.max_row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 100

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the reconciliation of shipments (issue 14) --------------------------------------------


@dataclass
class ReconciliationContext:
    period_from: date
    period_to: date
    period_label: str
    generated_at: datetime
    importing_country: str = ""
    substance: str = ""
    exporting_country: str = ""

    def preamble(self) -> list[tuple[str, str]]:
        return [
            (
                _("Report"),
                _("PEN Portal: notified, shipped and received quantities, by importing country and substance"),
            ),
            (_("Period"), self.period_label),
            (_("Dispatched from"), self.period_from.isoformat()),
            (_("Dispatched to"), self.period_to.isoformat()),
            (_("Importing country"), self.importing_country or _("All importing countries")),
            (_("Substance"), self.substance or _("All substances")),
            (_("Exporting country"), self.exporting_country or _("All exporting countries")),
            (_("Generated at"), self.generated_at.isoformat(timespec="seconds")),
        ]


def reconciliation_cell(row, attribute: str, kind: str) -> str:
    """A cell as the page and the CSV write it (quantities to three decimals or more)."""
    value = getattr(row, attribute)
    if kind == "quantity":
        return reconciliation.quantity_text(value)
    return str(value)


def reconciliation_csv(rows: list[reconciliation.Row], context: ReconciliationContext) -> str:
    """Header rows (label, value), an empty row, then the table with a heading row: the
    page's rows, in the page's order, each cell as the page shows it."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for label, value in context.preamble():
        writer.writerow([_safe(str(label)), _safe(str(value))])
    writer.writerow([])
    writer.writerow([str(label) for _attribute, label, _kind in reconciliation.COLUMNS])
    for row in rows:
        writer.writerow([_safe(reconciliation_cell(row, a, kind)) for a, _label, kind in reconciliation.COLUMNS])
    return buffer.getvalue()
