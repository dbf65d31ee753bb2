# The one way the portal writes a date for people in English (Django date-format
# characters). Day, month name and year: never ambiguous between countries that write
# 06/11 for June or for November, and the month name is translated with the page.
# A page uses them as {{ value|date }} or {{ value|date:"DATETIME_FORMAT" }}, Python as
# web.dates.for_people; machines get ISO 8601 (<time datetime>, CSV, the API).
DATE_FORMAT = "j F Y"  # 16 December 2026
DATETIME_FORMAT = "j F Y, H:i T"  # 16 December 2026, 14:05 UTC
YEAR_MONTH_FORMAT = "F Y"  # December 2026
MONTH_DAY_FORMAT = "j F"  # 16 December
