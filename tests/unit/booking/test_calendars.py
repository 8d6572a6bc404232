"""The feed's rules and the merging of imported busy time, in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.booking.domain.calendars import (
    BookedTime,
    DropInBlock,
    EntryStatus,
    clipped,
    feed_entries,
    initials,
    merge,
)
from services.booking.domain.model import Interval, SessionType
from tests.layers import imported

NOW = datetime(2027, 1, 11, 8, tzinfo=UTC)


def at(hours: float, length: float = 1) -> Interval:
    start = NOW + timedelta(hours=hours)
    return Interval(start, start + timedelta(hours=length))


def booked(id_: str, **changes: object) -> BookedTime:
    fields: dict[str, object] = {
        "id": id_,
        "session_type": SessionType.INTERVIEW,
        "interval": at(24),
        "cancelled": False,
        "revision": 1,
        "updated_at": NOW,
        "place_key": id_,
        "capacity": 1,
        "student_name": "Amy Jo Smith",
        "year_group": 11,
        "school_name": "School A",
        "room": "Careers room",
    }
    fields.update(changes)
    return BookedTime(**fields)  # type: ignore[arg-type]


def test_a_student_is_shown_by_first_and_last_initials_only() -> None:
    assert initials("Amy Jo Smith") == "A.S."
    assert initials("amy") == "A."
    assert initials(None) == "student"
    [entry] = feed_entries([booked("a")], [], NOW)
    assert entry.summary == "Careers interview - A.S. (Y11)"
    assert entry.location == "Careers room, School A"


def test_a_cancellation_is_shown_for_30_days_then_dropped() -> None:
    cancelled = booked("a", cancelled=True, revision=2, updated_at=NOW - timedelta(days=29))
    [entry] = feed_entries([cancelled], [], NOW)
    assert entry.status is EntryStatus.CANCELLED
    assert entry.sequence == 1
    assert feed_entries([cancelled], [], NOW + timedelta(days=2)) == []


def test_a_group_session_is_one_event_with_the_number_booked_and_no_names() -> None:
    places = [
        booked(f"p{n}", session_type=SessionType.GROUP, place_key="g", capacity=8, revision=1)
        for n in range(3)
    ]
    places.append(
        booked("p9", session_type=SessionType.GROUP, place_key="g", capacity=8, cancelled=True)
    )
    [entry] = feed_entries(places, [], NOW)
    assert entry.summary == "Careers group session - 3 booked"
    assert entry.uid == "session-g"
    assert entry.sequence == 3
    joined = [*places, booked("p4", session_type=SessionType.GROUP, place_key="g", capacity=8)]
    assert feed_entries(joined, [], NOW)[0].sequence > entry.sequence


def test_a_dropin_session_is_one_block_whose_sequence_rises_as_students_join() -> None:
    block = DropInBlock("d1", at(48, 2), "School A", "Library", 0, None)
    [empty] = feed_entries([], [block], NOW)
    [busy] = feed_entries([], [DropInBlock("d1", at(48, 2), "School A", "Library", 4, NOW)], NOW)
    assert (empty.summary, busy.summary) == (
        "Careers drop-in - 0 booked",
        "Careers drop-in - 4 booked",
    )
    assert busy.uid == empty.uid and busy.sequence > empty.sequence


def test_overlapping_and_touching_busy_times_merge_and_are_clipped_to_the_window() -> None:
    assert merge([at(3), at(0, 2), at(1, 0.5), at(2)]) == [at(0, 4)]
    assert merge([at(0), at(5)]) == [at(0), at(5)]
    assert clipped([at(-2, 3), at(10)], Interval(NOW, NOW + timedelta(hours=5))) == [at(0)]


def test_the_calendar_use_cases_see_no_table_and_the_rules_only_the_domain() -> None:
    booking = Path(__file__).resolve().parents[3] / "services" / "booking"
    for module in ("calendars", "calendar_import"):
        found = imported(booking / "application" / f"{module}.py")
        assert not {n for n in found if n.startswith(("sqlalchemy", "services.booking.adapters"))}
    rules = imported(booking / "domain" / "calendars.py")
    assert {n for n in rules if n.startswith("services.")} <= {"services.booking.domain.model"}
    assert not {n for n in rules if n.startswith(("sqlalchemy", "aiohttp", "shared", "icalendar"))}


def test_only_global_addresses_may_serve_an_imported_calendar() -> None:
    from services.booking.adapters.calendar_fetch import refused_address

    for private in (
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.10",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1%eth0",
        "fc00::1",
        "::ffff:127.0.0.1",
    ):
        assert refused_address(private), private
    for public in ("8.8.8.8", "151.101.1.69", "2a00:1450:4009:81f::200e"):
        assert not refused_address(public), public
