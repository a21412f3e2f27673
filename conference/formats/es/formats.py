# Django's Spanish formats ("8 de noviembre de 2017", "14:00"), and ours in the same style.
WEEKDAY_DATE_FORMAT = r"l, j \d\e F \d\e Y"
WEEKDAY_MONTH_DAY_FORMAT = r"l, j \d\e F"
