"""The one way a moment is named to people: on the wall clock of a conference's zone, in
the reader's date format, with the zone beside it, "17 November 2027, 17:20 (Europe/Madrid)".

A conference's readers sit in its zone whatever the server's; naming the zone keeps a
remote reader from taking the time for their own."""

import datetime as dt
import zoneinfo

from django.utils import formats, timezone


def named_moment(moment: dt.datetime, zone: str) -> str:
    """`moment` (aware) as its wall time in `zone`, an IANA name, with the zone named."""
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(zone))
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} ({zone})"
