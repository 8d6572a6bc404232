"""Message wording: Jinja2 templates per kind and channel, in plain English.

`templates/<kind>.sms.txt` and `templates/<kind>.email.txt` (its first line is the subject);
the HTML part of an email is the text's paragraphs in `templates/layout.html`. A template
sees only the variables `template_vars` builds (times in the school's local time, the place,
what the message is about) and chooses its A/B wording with `variant`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notifications.application.sending import Rendered

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Everything a template may mention. Nothing here names a person, a need or a reason.
ALLOWED_VARIABLES = frozenset(
    {"variant", "when", "location", "expires", "week", "sector", "places", "reference", "help"}
)


class Templates:
    def __init__(self, directory: Path = TEMPLATES) -> None:
        self.env = Environment(
            loader=FileSystemLoader(directory),
            undefined=StrictUndefined,
            autoescape=select_autoescape(["html"]),
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, kind: str, channel: str, variant: str, context: dict[str, Any]) -> Rendered:
        variables = {**template_vars(context), "variant": variant}
        text = self.env.get_template(f"{kind}.{channel}.txt").render(variables).strip()
        if channel == "sms":
            return Rendered(text=" ".join(text.split()))
        subject, _, body = text.partition("\n\n")
        paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
        html = self.env.get_template("layout.html").render(
            subject=subject.strip(), paragraphs=paragraphs
        )
        return Rendered(text=body.strip() + "\n", subject=subject.strip(), html=html)


def template_vars(context: dict[str, Any]) -> dict[str, Any]:
    """A message's stored context as the words a template shows."""
    zone = ZoneInfo(context.get("time_zone", "Europe/London"))
    out: dict[str, Any] = {
        "location": context.get("location", ""),
        "reference": context.get("reference", ""),
        "sector": context.get("sector", ""),
        "help": "Reply HELP for help or STOP to stop these texts.",
        "when": _moment(context.get("starts_at"), zone),
        "expires": _moment(context.get("expires_at"), zone),
        "week": _day(context.get("week_starts")),
        "places": [
            {"week": _day(p["week_starts"]), "students": p["students"]}
            for p in context.get("places", [])
        ],
    }
    return out


def _moment(raw: str | None, zone: ZoneInfo) -> str:
    if not raw:
        return ""
    local = datetime.fromisoformat(raw).astimezone(zone)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"


def _day(raw: str | None) -> str:
    if not raw:
        return ""
    day = date.fromisoformat(raw)
    return f"{day:%A} {day.day} {day:%B}"
