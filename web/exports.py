"""What every spreadsheet export (CSV or XLSX) does to a cell: text a spreadsheet program
would run as a formula is quoted (CSV injection, OWASP). Here, below every app, so that the
timeliness exports and the notification list's export share the one rule without one app
importing the other."""

# A cell starting with one of these is read as a formula (or, for tab and carriage return,
# can shift the cell so that the next character starts one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """``value`` as a cell may hold it: text that a spreadsheet would take for a formula gets
    a leading apostrophe; anything else (numbers, dates, None) is returned unchanged."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
