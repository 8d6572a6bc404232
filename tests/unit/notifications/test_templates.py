"""Every template of every kind and channel renders in plain English and gives nothing away."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import jinja2.meta
import pytest

from services.notifications.adapters.templates import ALLOWED_VARIABLES, TEMPLATES, Templates
from services.notifications.domain.messages import RULES, Kind

STARTS = datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
# What a careless template or context could leak: PA specialisms, reasons for referral,
# names, priority flags. The context below carries all of them, as a careless producer might.
SENSITIVE = re.compile(
    r"looked[ -]after|intensive support|\bSEN\b|special educational|referr|disadvantag"
    r"|pupil premium|priority|safeguard|Okonkwo|Priya|child in care|\bEHCP\b",
    re.IGNORECASE,
)
CONTEXT = {
    "appointment_id": "6f1c2a7e-0000-4000-8000-000000000001",
    "revision": 2,
    "starts_at": STARTS.isoformat(),
    "ends_at": (STARTS + timedelta(minutes=40)).isoformat(),
    "expires_at": (STARTS - timedelta(hours=20)).isoformat(),
    "location": "Careers room",
    "time_zone": "Europe/London",
    "reference": "6f1c2a7e",
    "sector": "Engineering",
    "week_starts": "2027-06-14",
    "places": [{"week_starts": "2027-06-14", "students": 2}],
    # Never meant for a template: a template that reached for them would leak.
    "adviser_kind": "Looked After Children",
    "referral_reason": "Intensive Support referral",
    "surname": "Okonkwo",
    "first_name": "Priya",
    "priority_flags": ["SEN", "disadvantaged"],
}
CASES = [
    (kind, channel, variant)
    for kind, rule in RULES.items()
    for channel in rule.channels
    for variant in rule.variants
]


def test_every_kind_has_a_rule() -> None:
    assert set(RULES) == set(Kind)


@pytest.mark.parametrize("kind, channel, variant", CASES)
def test_every_template_renders_without_sensitive_content(
    kind: Kind, channel: str, variant: str
) -> None:
    rendered = Templates().render(kind, channel, variant, CONTEXT)
    for part in (rendered.text, rendered.subject or "", rendered.html or ""):
        assert not SENSITIVE.search(part), f"{kind}/{channel}/{variant}: {part}"
    assert "careers" in rendered.text.lower() or "work experience" in rendered.text.lower()
    if channel == "sms":
        assert len(rendered.text) <= 306, "at most two SMS segments"
        assert "STOP" in rendered.text
    else:
        assert rendered.subject and rendered.html and "<p>" in rendered.html


def test_templates_use_only_the_variables_that_carry_nothing_sensitive() -> None:
    env = Templates().env
    for path in sorted(TEMPLATES.glob("*.txt")):
        source = path.read_text()
        used = jinja2.meta.find_undeclared_variables(env.parse(source))
        assert used <= ALLOWED_VARIABLES, f"{path.name} uses {sorted(used - ALLOWED_VARIABLES)}"


def test_the_two_reminder_wordings_differ_and_b_states_the_consequence() -> None:
    a = Templates().render(Kind.REMINDER_DAY_BEFORE, "sms", "a", CONTEXT).text
    b = Templates().render(Kind.REMINDER_DAY_BEFORE, "sms", "b", CONTEXT).text
    assert a != b and "loses the place" in b
    assert "Tuesday 12 January at 10:00" in a
