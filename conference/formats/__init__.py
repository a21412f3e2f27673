"""Dates and times as readers of each language write them (settings.FORMAT_MODULE_PATH).

Each language's module overrides Django's formats where ours differ and defines the site's
own format names, which templates use like Django's: `{{ day|date:"WEEKDAY_DATE_FORMAT" }}`.
Every language of settings.LANGUAGES defines every name in CUSTOM_FORMATS: Django would
otherwise take an unknown name for the format string itself.
"""

CUSTOM_FORMATS = (
    # A day with its weekday: "Wednesday 8 November 2017".
    "WEEKDAY_DATE_FORMAT",
    # The same without the year, where the year goes without saying: "Wednesday 8 November".
    "WEEKDAY_MONTH_DAY_FORMAT",
)
