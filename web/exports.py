"""What every spreadsheet export (CSV or XLSX) does to a cell: text a spreadsheet program
would run as a formula is quoted (CSV injection, OWASP). Here, below every app, so that the
timeliness exports and the notification list's export share the one rule without one app
importing the other."""

import csv

# A cell starting with one of these is read as a formula (or, for tab and carriage return,
# can shift the cell so that the next character starts one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """``value`` as a cell may hold it: text that a spreadsheet would take for a formula gets
    a leading apostrophe; anything else (numbers, dates, None) is returned unchanged."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


class _Line:
    """A file csv.writer writes to that hands each line back (for a streamed response)."""

    def write(self, text):
        return text


def csv_lines(rows, *, bom: bool = False):
    """The CSV of ``rows`` (lists of cells), line by line, each cell spreadsheet_safe;
    ``bom``: the byte-order mark first, that tells spreadsheet programs it is UTF-8."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    for number, row in enumerate(rows):
        line = writer.writerow([spreadsheet_safe(cell) for cell in row])
        yield ("\ufeff" + line) if bom and number == 0 else line
