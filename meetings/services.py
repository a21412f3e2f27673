"""Every write to meeting profiles, requests and meetings.

The locking contract, the same in every function here: one transaction; first the meeting
blocks concerned, by primary key (`select_for_update(no_key=True)`), then the profiles of
the people concerned, by primary key; then everything that is checked (status, window,
caps, who is free when, which tables are taken) is read again from the rows and the
change is written. Because every writer takes the block first, the writes to one block's
requests and meetings happen one at a time, so no cap or free slot can race; other
blocks and conferences are untouched. The profile locks order the few writes that span
blocks (opting out) against those within one. Behind the locks stand the unique
constraints: one person per slot (MeetingSeat), one meeting per table and slot, one live
request per pair and block; a write that would break one fails with SlotTaken or
AlreadyAsked, never with a double booking.

Every outcome is told to the other side through `meetings.notifications`, in the same
transaction: the email exists if and only if the change does.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from meetings import notifications
from meetings.exceptions import (
    AlreadyAnswered,
    AlreadyAsked,
    BlockCancelled,
    CannotAskYourself,
    CapReached,
    InvalidSlot,
    NotAParticipant,
    NotFound,
    OutsideWindow,
    ProfileNotApproved,
    SlotTaken,
    TooManyOpenRequests,
)
from meetings.models import (
    Meeting,
    MeetingBlock,
    MeetingRequest,
    MeetingSeat,
    MeetingSettings,
    Profile,
    Sector,
    Slot,
    Table,
    Theme,
)
from registration.models import Registration

# Rounds of the scheduler's improvement step; each round tries every meeting left over.
IMPROVE_ROUNDS = 3

RequestStatus = MeetingRequest.Status
MeetingStatus = Meeting.Status


# Profiles


def save_profile(
    registration: Registration,
    *,
    offer: str,
    seek: str,
    languages: str,
    sectors: Iterable[Sector],
    themes: Iterable[Theme],
) -> Profile:
    """Opt a confirmed attendee in to bilateral meetings with this profile, or update it.

    Where the organisers approve profiles (MeetingSettings), a new profile, a changed one
    and one not approved before wait for their approval, unlisted meanwhile; elsewhere a
    profile is approved as saved. Sectors and themes must be the conference's own. Locks
    the attendee's profile (made if missing). Raises NotAParticipant for a registration
    that is not confirmed and NotFound for a sector or theme of another conference."""
    sectors, themes = list(sectors), list(themes)
    conference_id = registration.conference_id
    if any(item.conference_id != conference_id for item in [*sectors, *themes]):
        raise NotFound
    with transaction.atomic():
        registration = Registration.objects.select_for_update(no_key=True).get(pk=registration.pk)
        if registration.status != Registration.Status.CONFIRMED:
            raise NotAParticipant
        profile, _created = Profile.objects.select_for_update().get_or_create(
            registration=registration, defaults={"conference_id": conference_id}
        )
        before = _described(profile) if profile.opted_in else None
        if not profile.opted_in:
            profile.opted_in, profile.opted_in_at = True, timezone.now()
        profile.offer, profile.seek, profile.languages = offer, seek, languages
        changed = before != (offer, seek, languages, {s.pk for s in sectors}, {t.pk for t in themes})
        if not MeetingSettings.objects.filter(conference_id=conference_id, approve_profiles=True).exists():
            profile.status = Profile.Status.APPROVED
        elif changed or profile.status != Profile.Status.APPROVED:
            profile.status = Profile.Status.PENDING
        # A refusal's reason answered the profile as it was; saved again, it is asked anew.
        profile.refusal_reason = ""
        profile.save()
        profile.sectors.set(sectors)
        profile.themes.set(themes)
    return profile


def approve_profile(profile: Profile) -> bool:
    """An organiser lists a profile waiting for approval; its owner is told by email.
    Returns False, changing nothing, for a profile not waiting (answered already, opted out).

    Locks the conference's meeting blocks by primary key, then the profile."""
    return _review(profile, Profile.Status.APPROVED)


def refuse_profile(profile: Profile, *, reason: str = "") -> bool:
    """An organiser turns down a profile waiting for approval, with an optional reason (kept
    on the profile, shown to its owner and put in the email): it stays unlisted, and the
    live requests and meetings it had from before its change are cancelled (the other side
    told, as at an opt-out); its owner is told by email and may change it and try again.
    Returns False, changing nothing, for a profile not waiting. The reason is checked by the
    caller's form (conference.validators.validate_plain_text, 500 characters at most).

    Locks the conference's meeting blocks by primary key, then the profile."""
    return _review(profile, Profile.Status.REFUSED, reason=reason)


def _review(profile: Profile, status: str, *, reason: str = "") -> bool:
    with transaction.atomic():
        _lock_blocks(MeetingBlock.objects.filter(session__conference_id=profile.conference_id))
        profile = Profile.objects.select_for_update().select_related("registration", "conference").get(pk=profile.pk)
        if not profile.opted_in or profile.status != Profile.Status.PENDING:
            return False
        if status == Profile.Status.REFUSED:
            _cancel_live_requests(profile)
        profile.status, profile.refusal_reason = status, reason
        profile.save(update_fields=["status", "refusal_reason", "updated_at"])
        notifications.profile_reviewed(profile)
    return True


def _described(profile: Profile) -> tuple:
    """What an organiser approves of a profile, to tell whether a save changed it."""
    sectors = set(profile.sectors.values_list("pk", flat=True))
    return (profile.offer, profile.seek, profile.languages, sectors, set(profile.themes.values_list("pk", flat=True)))


def opt_out(profile: Profile) -> Profile:
    """Take a participant out of the directory, cancel their live requests and meetings, and
    tell the other side of each. Harmless when already out.

    Locks the conference's meeting blocks by primary key, then the profile."""
    with transaction.atomic():
        _lock_blocks(MeetingBlock.objects.filter(session__conference_id=profile.conference_id))
        profile = Profile.objects.select_for_update().select_related("registration").get(pk=profile.pk)
        if not profile.opted_in:
            return profile
        _cancel_live_requests(profile)
        profile.opted_in, profile.opted_in_at = False, None
        profile.save(update_fields=["opted_in", "opted_in_at", "updated_at"])
    return profile


def leave_with_registration(*, registration_id: int) -> None:
    """A cancelled registration's part in meetings ends: as `opt_out`, with its locks, its
    live requests and meetings are cancelled and the other side of each told. Subscribed
    to the agenda's REGISTRATION_CANCELLED, announced after the cancellation commits;
    harmless for someone who never opted in or is out already."""
    profile = Profile.objects.filter(registration_id=registration_id).first()
    if profile is not None:
        opt_out(profile)


# Requests


def send_request(
    sender: Profile, *, block: MeetingBlock, recipient: Profile, message: str = "", slot_ids: Iterable[int] = ()
) -> MeetingRequest:
    """`sender` asks `recipient` for a meeting in `block`, with a message and the times they
    propose (optional); the recipient is told by email.

    Locks the block, then both profiles by primary key. Raises NotFound (someone or a block
    of another conference, or a recipient who is not listed), NotAParticipant (the sender
    is not listed), CannotAskYourself, BlockCancelled, OutsideWindow, AlreadyAsked,
    TooManyOpenRequests, CapReached or InvalidSlot, before writing."""
    slot_ids = set(slot_ids)
    if sender.pk == recipient.pk:
        raise CannotAskYourself
    with transaction.atomic():
        block = _lock_block(block.pk, conference_id=sender.conference_id)
        sender, recipient = _lock_profiles(sender, recipient)
        if recipient.conference_id != block.session.conference_id:
            raise NotFound
        if not _is_listed(sender):
            raise ProfileNotApproved if _is_waiting(sender) else NotAParticipant
        if not _is_listed(recipient):
            raise NotFound
        now = timezone.now()
        if not block.requests_open <= now < min(block.requests_close, block.session.start):
            raise OutsideWindow
        if _live_request_between(block, sender, recipient) is not None:
            raise AlreadyAsked
        pending = MeetingRequest.objects.filter(block=block, sender=sender, status=RequestStatus.PENDING).count()
        if pending >= block.max_open_requests:
            raise TooManyOpenRequests
        _check_caps(block, sender, recipient)
        slots = list(Slot.objects.filter(block=block, pk__in=slot_ids, is_break=False))
        if len(slots) != len(slot_ids):
            raise InvalidSlot
        try:
            with transaction.atomic():
                meeting_request = MeetingRequest.objects.create(
                    block=block,
                    sender=sender,
                    recipient=recipient,
                    message=message,
                    created_at=now,
                    expires_at=now + block.request_lifetime,
                )
        except IntegrityError as error:  # the constraint behind _live_request_between
            raise AlreadyAsked from error
        meeting_request.proposed_slots.set(slots)
        notifications.request_sent(meeting_request)
    return meeting_request


def accept_request(meeting_request: MeetingRequest, *, by: Profile, slot_id: int | None) -> Meeting:
    """The recipient accepts: at `slot_id`, a time both have free, at the lowest-numbered
    free table; or, with None, leaving the time to the organisers' scheduler. The sender
    is told by email, with a calendar entry once the meeting has a time.

    Locks the block, then both profiles by primary key. Raises NotFound (not the
    recipient's request, or a sender no longer listed), AlreadyAnswered, BlockCancelled, OutsideWindow (the block has
    begun), CapReached, InvalidSlot or SlotTaken (carrying the times still free for both),
    before writing."""
    with transaction.atomic():
        meeting_request = _lock_request(meeting_request, by=by, role="recipient")
        block = meeting_request.block
        if meeting_request.status != RequestStatus.PENDING:
            raise AlreadyAnswered
        if not _is_listed(meeting_request.sender):  # opted out or no longer registered meanwhile
            raise NotFound
        if timezone.now() >= block.session.start:
            raise OutsideWindow
        _check_caps(block, meeting_request.sender, meeting_request.recipient)
        meeting = Meeting(request=meeting_request, block=block)
        if slot_id is not None:
            slot = Slot.objects.filter(block=block, pk=slot_id, is_break=False).first()
            if slot is None:
                raise InvalidSlot
            table = _free_table(block, slot, meeting_request.sender, meeting_request.recipient)
            meeting.status, meeting.slot, meeting.table = MeetingStatus.SCHEDULED, slot, table
        meeting.save()
        if meeting.slot_id:
            _seat(meeting)
        meeting_request.status, meeting_request.answered_at = RequestStatus.ACCEPTED, timezone.now()
        meeting_request.save(update_fields=["status", "answered_at"])
        notifications.request_accepted(meeting)
    return meeting


def decline_request(meeting_request: MeetingRequest, *, by: Profile, reason: str = "") -> MeetingRequest:
    """The recipient declines, with an optional reason; the sender is told.

    Locks the block, then both profiles. Raises NotFound or AlreadyAnswered."""
    with transaction.atomic():
        meeting_request = _lock_request(meeting_request, by=by, role="recipient", cancelled_too=True)
        if meeting_request.status != RequestStatus.PENDING:
            raise AlreadyAnswered
        meeting_request.status, meeting_request.reason = RequestStatus.DECLINED, reason
        meeting_request.answered_at = timezone.now()
        meeting_request.save(update_fields=["status", "reason", "answered_at"])
        notifications.request_declined(meeting_request)
    return meeting_request


def cancel_request(meeting_request: MeetingRequest, *, by: Profile) -> MeetingRequest:
    """Either side withdraws: a request still waiting, or the meeting it became (whose
    calendar entry is then cancelled). The other side is told.

    Locks the block, then both profiles. Raises NotFound or AlreadyAnswered (declined,
    expired or already cancelled)."""
    with transaction.atomic():
        meeting_request = _lock_request(meeting_request, by=by, role="either", cancelled_too=True)
        if meeting_request.status not in MeetingRequest.LIVE_STATUSES:
            raise AlreadyAnswered
        _cancel(meeting_request, by=by)
    return meeting_request


def expire_requests(*, now: dt.datetime | None = None) -> int:
    """Expire every request left unanswered past its time and tell both sides; returns how
    many. Idempotent: each request is locked (block, then profiles) and checked again in a
    short transaction of its own, so two runs at once expire and tell each only once."""
    now = now or timezone.now()
    due = list(
        MeetingRequest.objects.filter(status=RequestStatus.PENDING, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)
    )
    expired = 0
    for request_id in due:
        with transaction.atomic():
            meeting_request = MeetingRequest.objects.select_related("block").filter(pk=request_id).first()
            if meeting_request is None:
                continue
            _lock_block(meeting_request.block_id, cancelled_too=True)
            meeting_request = (
                MeetingRequest.objects.select_for_update(of=("self",))
                .select_related(*_REQUEST_RELATED)
                .get(pk=request_id)
            )
            if meeting_request.status != RequestStatus.PENDING or meeting_request.expires_at > now:
                continue
            meeting_request.status = RequestStatus.EXPIRED
            meeting_request.save(update_fields=["status"])
            notifications.request_expired(meeting_request)
            expired += 1
    return expired


# Organisers


def mark_no_show(meeting: Meeting, *, no_show: bool = True) -> Meeting:
    """Record that a scheduled meeting did (not) take place; for the figures."""
    Meeting.objects.filter(pk=meeting.pk, status=MeetingStatus.SCHEDULED).update(no_show=no_show)
    meeting.refresh_from_db()
    return meeting


def set_up_block(block: MeetingBlock) -> MeetingBlock:
    """Cut the block's session into slots of its length and number its tables; slots and
    tables that meetings use are kept, the others follow the block's settings (a slot that
    no longer fits the session goes, a break stays a break).

    Locks the block. Call it after every change of the block or its session's times."""
    with transaction.atomic():
        block = _lock_block(block.pk, cancelled_too=True)
        session = block.session
        length = dt.timedelta(minutes=block.slot_minutes)
        starts = []
        start = session.start
        while start + length <= session.end:
            starts.append(start)
            start += length
        used_slots = set(Meeting.objects.filter(block=block, slot__isnull=False).values_list("slot_id", flat=True))
        Slot.objects.filter(block=block).exclude(start__in=starts).exclude(pk__in=used_slots).delete()
        existing = {slot.start: slot for slot in Slot.objects.filter(block=block)}
        for start in starts:
            slot = existing.get(start)
            if slot is None:
                Slot.objects.create(block=block, start=start, end=start + length)
            elif slot.end != start + length and slot.pk not in used_slots:
                slot.end = start + length
                slot.save(update_fields=["end"])
        used_tables = set(Meeting.objects.filter(block=block, table__isnull=False).values_list("table_id", flat=True))
        Table.objects.filter(block=block, number__gt=block.tables).exclude(pk__in=used_tables).delete()
        have = set(Table.objects.filter(block=block).values_list("number", flat=True))
        Table.objects.bulk_create(
            [Table(block=block, number=number) for number in range(1, block.tables + 1) if number not in have]
        )
    return block


def cancel_block(block: MeetingBlock) -> MeetingBlock:
    """Cancel a whole block: its live requests and meetings are cancelled and everyone told.

    Locks the block, then every profile with a live request in it, by primary key."""
    with transaction.atomic():
        block = _lock_block(block.pk, cancelled_too=True)
        live = MeetingRequest.objects.filter(block=block, status__in=MeetingRequest.LIVE_STATUSES)
        profile_ids = set(live.values_list("sender_id", flat=True)) | set(live.values_list("recipient_id", flat=True))
        list(Profile.objects.select_for_update().filter(pk__in=profile_ids).order_by("pk").values_list("pk"))
        block.is_cancelled = True
        block.save(update_fields=["is_cancelled"])
        for meeting_request in live.select_related(*_REQUEST_RELATED).order_by("pk"):
            _cancel(meeting_request, by=None)
    return block


@dataclass(frozen=True)
class ScheduleResult:
    placed: int
    unplaced: int
    # How many of the placed needed another meeting moved to make room.
    moved: int


def schedule_block(block: MeetingBlock) -> ScheduleResult:
    """Give accepted meetings without a time a slot and a table: first fit, then improve.

    First fit takes the meetings of the busiest people first and gives each the earliest
    slot where both are free and a table is. Then, in a few rounds, each meeting left over
    takes a slot where the meetings that keep its two people busy (at most two, placed by
    this run) can each move to another slot both of their people have free, or a slot
    that earlier moves freed. Meetings scheduled before the run never move.
    docs/meetings.md describes it; docs/benchmarks.md gives its results on a synthetic
    event of 300 participants and 1,000 requests (bench/meetings.py).

    Locks the block. Participants of each newly placed meeting are told by email."""
    with transaction.atomic():
        block = _lock_block(block.pk)
        slots = list(Slot.objects.filter(block=block, is_break=False).order_by("start"))
        tables = list(Table.objects.filter(block=block).order_by("number"))
        waiting = list(
            Meeting.objects.filter(block=block, status=MeetingStatus.ACCEPTED).select_related("request").order_by("pk")
        )
        busy: dict[int, set[int]] = defaultdict(set)
        for profile_id, slot_id in MeetingSeat.objects.filter(slot__block=block).values_list("profile_id", "slot_id"):
            busy[profile_id].add(slot_id)
        taken_tables: dict[int, int] = defaultdict(int)
        for slot_id, count in (
            Meeting.objects.filter(block=block, status=MeetingStatus.SCHEDULED)
            .values_list("slot_id")
            .annotate(count=Count("pk"))
            .order_by()
        ):
            taken_tables[slot_id] = count
        plan, moved = _plan(waiting, slots, len(tables), busy, taken_tables)

        table_numbers = {slot.pk: iter(_free_tables(block, slot, tables)) for slot in slots}
        by_id = {meeting.pk: meeting for meeting in waiting}
        now = timezone.now()
        placed = []
        for meeting_id, slot_id in sorted(plan.items()):
            meeting = by_id[meeting_id]
            meeting.slot_id, meeting.table = slot_id, next(table_numbers[slot_id])
            meeting.status, meeting.updated_at = MeetingStatus.SCHEDULED, now
            meeting.sequence += 1
            placed.append(meeting)
        Meeting.objects.bulk_update(placed, ["slot", "table", "status", "sequence", "updated_at"])
        MeetingSeat.objects.bulk_create(
            [
                MeetingSeat(meeting=meeting, profile_id=profile_id, slot_id=meeting.slot_id)
                for meeting in placed
                for profile_id in (meeting.request.sender_id, meeting.request.recipient_id)
            ]
        )
        for meeting in Meeting.objects.filter(pk__in=[m.pk for m in placed]).select_related(*_MEETING_RELATED):
            notifications.meeting_scheduled(meeting)
    return ScheduleResult(placed=len(placed), unplaced=len(waiting) - len(placed), moved=moved)


def _plan(
    meetings: list[Meeting], slots: list[Slot], table_count: int, busy: dict[int, set[int]], taken: dict[int, int]
) -> tuple[dict[int, int], int]:
    """The scheduler's arithmetic, on ids only: {meeting id: slot id} and how many moves it made."""
    pair = {m.pk: (m.request.sender_id, m.request.recipient_id) for m in meetings}
    degree: dict[int, int] = defaultdict(int)
    for a, b in pair.values():
        degree[a] += 1
        degree[b] += 1
    order = sorted(pair, key=lambda pk: (-(degree[pair[pk][0]] + degree[pair[pk][1]]), pk))
    slot_ids = [slot.pk for slot in slots]
    plan: dict[int, int] = {}
    holder: dict[tuple[int, int], int] = {}  # (profile, slot) -> meeting placed by this run

    def both_free(profile_a: int, profile_b: int, slot_id: int) -> bool:
        return slot_id not in busy[profile_a] and slot_id not in busy[profile_b] and taken[slot_id] < table_count

    def place(meeting_id: int, slot_id: int) -> None:
        plan[meeting_id] = slot_id
        taken[slot_id] += 1
        for profile_id in pair[meeting_id]:
            busy[profile_id].add(slot_id)
            holder[profile_id, slot_id] = meeting_id

    def unplace(meeting_id: int) -> int:
        slot_id = plan.pop(meeting_id)
        taken[slot_id] -= 1
        for profile_id in pair[meeting_id]:
            busy[profile_id].discard(slot_id)
            del holder[profile_id, slot_id]
        return slot_id

    left = []
    for meeting_id in order:
        a, b = pair[meeting_id]
        slot_id = next((s for s in slot_ids if both_free(a, b, s)), None)
        if slot_id is None:
            left.append(meeting_id)
        else:
            place(meeting_id, slot_id)

    # Improve: a meeting left over may take a slot where a table is free and the meetings
    # that keep its two people busy there (placed by this run, at most two) can each move
    # to another slot; repeated while it helps, a few rounds at most.
    moved = 0
    for _round in range(IMPROVE_ROUNDS):
        still_left = []
        for meeting_id in left:
            outcome = _repair(meeting_id, pair, slot_ids, busy, holder, both_free, place, unplace)
            if outcome is None:
                still_left.append(meeting_id)
            else:
                moved += outcome
        if len(still_left) == len(left):
            break
        left = still_left
    return plan, moved


def _repair(meeting_id, pair, slot_ids, busy, holder, both_free, place, unplace) -> int | None:
    """Place one left-over meeting, if need be by moving the (at most two) meetings of this
    run that block it in some slot; returns how many moved, or None (everything undone)
    when no slot works."""
    a, b = pair[meeting_id]
    direct = next((s for s in slot_ids if both_free(a, b, s)), None)
    if direct is not None:  # an earlier repair made room
        place(meeting_id, direct)
        return 0
    for slot_id in slot_ids:
        blockers = set()
        for profile_id in (a, b):
            if slot_id in busy[profile_id]:
                blockers.add(holder.get((profile_id, slot_id), 0))
        if not blockers or 0 in blockers:
            continue  # free already (so no table) or busy with a meeting fixed before this run
        for blocker in blockers:
            unplace(blocker)
        if not both_free(a, b, slot_id):
            for blocker in blockers:
                place(blocker, slot_id)
            continue
        place(meeting_id, slot_id)
        moves = {}
        for blocker in blockers:
            c, d = pair[blocker]
            target = next((s for s in slot_ids if s != slot_id and both_free(c, d, s)), None)
            if target is None:
                break
            place(blocker, target)
            moves[blocker] = target
        if len(moves) == len(blockers):
            return len(moves)
        for blocker in moves:
            unplace(blocker)
        unplace(meeting_id)
        for blocker in blockers:
            place(blocker, slot_id)
    return None


# Helpers

_REQUEST_RELATED = (
    "block__session__conference",
    "sender__registration__user",
    "recipient__registration__user",
    "sender__conference",
    "recipient__conference",
)
_MEETING_RELATED = (*(f"request__{path}" for path in _REQUEST_RELATED), "slot", "table")


def _lock_blocks(blocks) -> list[MeetingBlock]:
    return list(blocks.select_for_update(no_key=True, of=("self",)).select_related("session").order_by("pk"))


def _lock_block(block_id: int, *, conference_id: int | None = None, cancelled_too: bool = False) -> MeetingBlock:
    """Lock the block; NotFound for one of another conference, BlockCancelled for a
    cancelled one (or one whose session is cancelled) unless `cancelled_too`."""
    block = (
        MeetingBlock.objects.select_for_update(no_key=True, of=("self",))
        .select_related("session__conference")
        .filter(pk=block_id)
        .first()
    )
    if block is None or (conference_id is not None and block.session.conference_id != conference_id):
        raise NotFound
    if not cancelled_too and (block.is_cancelled or block.session.is_cancelled):
        raise BlockCancelled
    return block


def _lock_profiles(*profiles: Profile) -> list[Profile]:
    ids = [profile.pk for profile in profiles]
    locked = {
        profile.pk: profile
        for profile in Profile.objects.select_for_update(of=("self",))
        .select_related("registration__user", "conference")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    if len(locked) != len(set(ids)):
        raise NotFound
    return [locked[pk] for pk in ids]


def _lock_request(
    meeting_request: MeetingRequest, *, by: Profile, role: str, cancelled_too: bool = False
) -> MeetingRequest:
    """Lock the request's block and both profiles, then read the request afresh; NotFound
    unless `by` is its recipient (role "recipient") or one of its two sides ("either").
    A cancelled block refuses (BlockCancelled) unless `cancelled_too`."""
    sides = (
        (meeting_request.recipient_id,)
        if role == "recipient"
        else (meeting_request.sender_id, meeting_request.recipient_id)
    )
    if by.pk not in sides:
        raise NotFound
    _lock_block(meeting_request.block_id, conference_id=by.conference_id, cancelled_too=cancelled_too)
    _lock_profiles(meeting_request.sender, meeting_request.recipient)
    return MeetingRequest.objects.select_related(*_REQUEST_RELATED).get(pk=meeting_request.pk)


def _is_listed(profile: Profile) -> bool:
    return (
        profile.opted_in
        and profile.status == Profile.Status.APPROVED
        and profile.registration.status == Registration.Status.CONFIRMED
    )


def _is_waiting(profile: Profile) -> bool:
    """Opted in but not (or no longer) approved by the organisers."""
    return profile.opted_in and profile.status != Profile.Status.APPROVED


def _live_request_between(block: MeetingBlock, one: Profile, other: Profile) -> MeetingRequest | None:
    return (
        MeetingRequest.objects.filter(block=block, status__in=MeetingRequest.LIVE_STATUSES)
        .filter(Q(sender=one, recipient=other) | Q(sender=other, recipient=one))
        .first()
    )


def _check_caps(block: MeetingBlock, *profiles: Profile) -> None:
    """CapReached if one of them already has the block's number of live meetings."""
    counts = (
        Meeting.objects.filter(block=block)
        .exclude(status=MeetingStatus.CANCELLED)
        .filter(Q(request__sender__in=profiles) | Q(request__recipient__in=profiles))
        .values_list("request__sender_id", "request__recipient_id")
    )
    per_person: dict[int, int] = defaultdict(int)
    for sender_id, recipient_id in counts:
        per_person[sender_id] += 1
        per_person[recipient_id] += 1
    if any(per_person[profile.pk] >= block.max_meetings for profile in profiles):
        raise CapReached


def free_slots(block: MeetingBlock, *profiles: Profile) -> list[Slot]:
    """The block's slots where every one of `profiles` is free and a table is left."""
    busy = MeetingSeat.objects.filter(slot__block=block, profile__in=profiles).values("slot_id")
    return list(
        Slot.objects.filter(block=block, is_break=False)
        .exclude(pk__in=busy)
        .annotate(scheduled=Count("meetings", filter=Q(meetings__status=MeetingStatus.SCHEDULED)))
        .filter(scheduled__lt=block.tables)
        .order_by("start")
    )


def _free_tables(block: MeetingBlock, slot: Slot, tables: list[Table]) -> list[Table]:
    used = set(Meeting.objects.filter(slot=slot, status=MeetingStatus.SCHEDULED).values_list("table_id", flat=True))
    return [table for table in tables if table.pk not in used]


def _free_table(block: MeetingBlock, slot: Slot, *profiles: Profile) -> Table:
    """The lowest-numbered table free at `slot`, if both are free then; else SlotTaken."""
    if MeetingSeat.objects.filter(slot=slot, profile__in=profiles).exists():
        raise SlotTaken(free_slots(block, *profiles))
    tables = _free_tables(block, slot, list(Table.objects.filter(block=block).order_by("number")))
    if not tables:
        raise SlotTaken(free_slots(block, *profiles))
    return tables[0]


def _seat(meeting: Meeting) -> None:
    request = meeting.request
    try:
        with transaction.atomic():
            MeetingSeat.objects.bulk_create(
                [
                    MeetingSeat(meeting=meeting, profile_id=profile_id, slot_id=meeting.slot_id)
                    for profile_id in (request.sender_id, request.recipient_id)
                ]
            )
    except IntegrityError as error:  # what the locks should already have prevented
        raise SlotTaken(free_slots(meeting.block, request.sender, request.recipient)) from error


def _cancel_live_requests(profile: Profile) -> None:
    """Cancel the profile's live requests and meetings as if they withdrew from each (the
    caller holds the blocks' and the profile's locks)."""
    live = (
        MeetingRequest.objects.filter(Q(sender=profile) | Q(recipient=profile), status__in=MeetingRequest.LIVE_STATUSES)
        .select_related(*_REQUEST_RELATED)
        .order_by("pk")
    )
    for meeting_request in live:
        _cancel(meeting_request, by=profile)


def _cancel(meeting_request: MeetingRequest, *, by: Profile | None) -> None:
    """Cancel a live request and its meeting, if any, and tell whoever did not do it."""
    meeting = Meeting.objects.filter(request=meeting_request).select_related("slot", "table").first()
    meeting_request.status = RequestStatus.CANCELLED
    meeting_request.save(update_fields=["status"])
    if meeting is not None and meeting.status != MeetingStatus.CANCELLED:
        MeetingSeat.objects.filter(meeting=meeting).delete()
        meeting.status = MeetingStatus.CANCELLED
        meeting.sequence += 1
        meeting.save(update_fields=["status", "sequence", "updated_at"])
        meeting.request = meeting_request
    notifications.request_cancelled(meeting_request, meeting=meeting, by=by)


# A person's data


def erase_participant(user) -> None:
    """Erase what the meetings keep about `user`: their part of deleting an account
    (accounts.personal_data, inside its transaction, before registration anonymises the
    registrations). Each profile is opted out first (its live requests and meetings are
    cancelled and the other side told, as `opt_out` does, with its locks), then loses what
    it offered, sought and spoke; the messages the person wrote in requests and answers go too."""
    with transaction.atomic():
        profiles = list(Profile.objects.filter(registration__user=user).order_by("pk"))
        for profile in profiles:
            opt_out(profile)
        _erase_profiles([profile.pk for profile in profiles])


def erase_registration_profiles(registration_ids: list[int]) -> None:
    """Erase what the meetings keep about these registrations, as `erase_participant` does but
    without opting out: the meetings' part of erasing a conference's registrations once it is
    over (accounts.personal_data.erase_registrations, inside its transaction); the meetings
    stay, as they took place, for the figures."""
    _erase_profiles(list(Profile.objects.filter(registration__in=registration_ids).values_list("pk", flat=True)))


def _erase_profiles(profile_ids: list[int]) -> None:
    """What the profiles offered, sought and spoke, why the organisers refused them, and the
    words their people wrote in requests and answers."""
    Profile.objects.filter(pk__in=profile_ids).update(offer="", seek="", languages="", refusal_reason="")
    Profile.sectors.through.objects.filter(profile__in=profile_ids).delete()
    Profile.themes.through.objects.filter(profile__in=profile_ids).delete()
    MeetingRequest.objects.filter(sender__in=profile_ids).update(message="")
    MeetingRequest.objects.filter(recipient__in=profile_ids).update(reason="")
