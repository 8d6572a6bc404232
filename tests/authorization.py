"""What the authorization matrices share: a service's API routes from its route table, and
the route template a concrete request goes to (so a route with no row can be found)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aiohttp import web

from shared.http.openapi import split_path


def api_routes(tables: Iterable[Iterable[web.AbstractRouteDef]]) -> set[tuple[str, str]]:
    """Every (method, path template) under /api/ in a service's route tables."""
    return {
        (route.method, route.path)
        for table in tables
        for route in table
        if isinstance(route, web.RouteDef) and route.path.startswith("/api/")
    }


def template_of(routes: set[tuple[str, str]], method: str, path: str) -> tuple[str, str] | None:
    """The route template a concrete request goes to, as aiohttp would match it: fixed paths
    before templated ones, as aiohttp registers them in that order here."""
    for route_method, template in sorted(routes, key=lambda r: r[1].count("{")):
        name_free, patterns = split_path(template)
        regex = re.escape(name_free)
        for name, pattern in patterns.items():
            regex = regex.replace(re.escape("{" + name + "}"), f"(?:{pattern or '[^/]+'})")
        if route_method == method and re.fullmatch(regex, path):
            return route_method, template
    return None


def mismatches(method: str, path: str, got: int, expected: dict[str, int], who: str) -> list[str]:
    if got == expected[who]:
        return []
    return [f"{method} {path} as {who}: {got}, expected {expected[who]}"]
