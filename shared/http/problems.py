"""Errors as RFC 9457 `application/problem+json`, with a message a person can act on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(Exception):
    """Raise from a handler to answer with a problem document.

    `type_` is a short slug (e.g. "slot-taken") that clients can switch on; `extra` members
    (e.g. `alternatives`, `errors`) are added to the document.
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.headers = dict(headers or {})
        self.status = status
        self.title = title
        self.detail = detail
        self.type_ = type_
        self.extra = extra

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": f"https://signpost.invalid/problems/{self.type_}"
            if self.type_
            else "about:blank",
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            doc["detail"] = self.detail
        if instance:
            doc["instance"] = instance
        doc.update(self.extra)
        return doc


def problem_response(problem: Problem, *, instance: str | None = None) -> web.Response:
    return web.Response(
        status=problem.status,
        text=json.dumps(problem.to_dict(instance), default=str),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers,
    )


def bad_request(detail: str, **extra: Any) -> Problem:
    return Problem(400, "Bad request", detail, type_="bad-request", **extra)


def not_found(what: str = "resource") -> Problem:
    return Problem(404, "Not found", f"No such {what}.", type_="not-found")


def forbidden(detail: str = "You may not do this.") -> Problem:
    return Problem(403, "Forbidden", detail, type_="forbidden")


def unauthorized(detail: str = "Sign in first.") -> Problem:
    return Problem(401, "Unauthorized", detail, type_="unauthorized")


def conflict(detail: str, *, type_: str = "conflict", **extra: Any) -> Problem:
    return Problem(409, "Conflict", detail, type_=type_, **extra)
