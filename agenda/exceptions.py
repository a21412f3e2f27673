class AgendaError(Exception):
    """An organiser's request the programme cannot carry out; the message says why."""


class NotABreak(AgendaError):
    pass


class SpansAllRooms(AgendaError):
    pass
