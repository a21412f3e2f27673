# Django's French formats ("8 novembre 2017", "14:00"), and ours in the same style.
WEEKDAY_DATE_FORMAT = "l j F Y"
WEEKDAY_MONTH_DAY_FORMAT = "l j F"
