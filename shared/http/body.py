"""Reading and validating request bodies and query strings into pydantic models."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    ValidationError,
    WithJsonSchema,
    field_validator,
)

from shared.http.problems import Problem, bad_request

M = TypeVar("M", bound=BaseModel)

MAX_BODY_BYTES = 1 << 20


# Characters no person types into a form: C0 and C1 controls (but tab and line breaks), DEL,
# and the bidirectional embeddings, overrides and isolates that make text display other than
# it reads (a reason that shows one thing to staff and stores another).
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


PLAIN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"
"""`_INVISIBLE`'s refusal as a JSON Schema pattern, for the OpenAPI document."""


def _plain_text_schema(schema: dict[str, Any]) -> None:
    """Say in the schema that text fields refuse what `_check_text` refuses."""
    for prop in schema.get("properties", {}).values():
        for sub in [prop, prop.get("items", {}), *prop.get("anyOf", [])]:
            if sub.get("type") == "string" and not {"pattern", "format", "enum"} & set(sub):
                sub["pattern"] = PLAIN_TEXT


class Strict(BaseModel):
    """Base for request bodies and queries: a field the API does not know is an error, not
    something silently dropped (a misspelt field would otherwise change nothing), and no text
    field may hold control or bidirectional-override characters."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_plain_text_schema)

    @field_validator("*", mode="after")
    @classmethod
    def _no_invisible_characters(cls, value: Any) -> Any:
        _check_text(value)
        return value


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        found = _INVISIBLE.search(value)
        if found:
            raise ValueError(
                f"contains a control or formatting character (U+{ord(found.group()):04X}); "
                "send plain text"
            )
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)


def validation_problem(exc: ValidationError, *, source: str = "body") -> Problem:
    errors = [
        {
            "field": ".".join(str(p) for p in err["loc"]) or source,
            "message": err["msg"],
        }
        for err in exc.errors()
    ]
    first = errors[0]
    return Problem(
        422,
        "Invalid request",
        f"{first['field']}: {first['message']}",
        type_="validation",
        errors=errors,
    )


async def read_json(request: web.Request) -> Any:
    """The body as JSON, or a problem saying what is wrong with it."""
    return _parse(await _read_body(request))


async def _read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Problem(413, "Request too large", "The body must be at most 1 MiB.")
    content_type = request.content_type
    if content_type not in ("application/json", "application/problem+json"):
        raise Problem(
            415,
            "Unsupported media type",
            f"Send the body as application/json, not {content_type or 'nothing'}.",
            type_="unsupported-media-type",
        )
    charset = request.charset
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise Problem(
            415,
            "Unsupported media type",
            f"Send the body as UTF-8 (charset=utf-8), not {charset}.",
            type_="unsupported-media-type",
        )
    raw = await request.read()
    if not raw:
        raise bad_request("The request body is empty; send a JSON object.")
    return raw


def _number(text: str) -> float | int:
    """A JSON number with no fraction is an integer, as JSON Schema counts it (2.0 is 2)."""
    value = float(text)
    return int(value) if value.is_integer() else value


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_float=_number)
    except UnicodeDecodeError as exc:
        raise bad_request("The request body is not UTF-8 text.") from exc
    except json.JSONDecodeError as exc:
        raise bad_request(
            f"The request body is not valid JSON: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}."
        ) from exc
    except RecursionError as exc:
        raise bad_request("The request body is nested too deeply.") from exc


async def read_model(request: web.Request, model: type[M]) -> M:
    """The body validated strictly as `model`: JSON types must match the schema (`true` is
    not a number, `"3"` is not an integer, `3.0` is); dates and times come as ISO 8601
    strings."""
    parsed = _parse(await _read_body(request))
    if not isinstance(parsed, dict):
        raise bad_request("The request body must be a JSON object.")
    try:
        return model.model_validate_json(json.dumps(parsed), strict=True)
    except ValidationError as exc:
        raise validation_problem(exc) from exc


def read_query(request: web.Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise validation_problem(exc, source="query") from exc


def json_response(body: Any, *, status: int = 200) -> web.Response:
    if isinstance(body, BaseModel):
        text = body.model_dump_json(by_alias=True)
    else:
        text = json.dumps(body, default=_default)
    return web.Response(status=status, text=text, content_type="application/json")


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


_EARLIEST, _LATEST = date(2000, 1, 1), date(2099, 12, 31)


def _within_service_years(value: Any) -> Any:
    day = value.date() if isinstance(value, datetime) else value
    if not _EARLIEST <= day <= _LATEST:
        raise ValueError("must be a date between the years 2000 and 2099")
    return value


_DAY = "20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
_OFFSET_TIME = (
    r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)

Instant = Annotated[
    AwareDatetime,
    AfterValidator(_within_service_years),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{_DAY}T{_OFFSET_TIME}$",
            "description": "An RFC 3339 date-time with its offset, in the years 2000 to 2099.",
        },
        mode="validation",
    ),
]
"""A timezone-aware instant in a range the calendars can work with (refuses year 9999).

As read, its schema is a pattern rather than `format: date-time`, since a format cannot say
the years; it leaves out the 29th to the 31st, which the parser takes too. As served, it is
`format: date-time`."""

Day = Annotated[
    date,
    AfterValidator(_within_service_years),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{_DAY}$",
            "description": "A date (YYYY-MM-DD) in the years 2000 to 2099.",
        },
        mode="validation",
    ),
]
"""A calendar date in the same range."""
