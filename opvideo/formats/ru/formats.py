"""Russian formats: only those that differ from Django's; the others come from Django's.

A day and month take the month in the genitive: «30 ноября» (E), not «30 Ноябрь» (F, the
nominative that stands alone, as in a month and year). The admin's date drill-down shows
days with this format.
"""

MONTH_DAY_FORMAT = "j E"
