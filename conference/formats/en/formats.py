# English as the EU institutions write it (and Britain, Ireland and Malta): day before
# month, and the 24-hour clock, rather than Django's American "Nov. 8, 2017, 2 p.m.".
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
WEEKDAY_DATE_FORMAT = "l j F Y"
WEEKDAY_MONTH_DAY_FORMAT = "l j F"
