"""Every API route is described in its service's OpenAPI document, and nothing else is."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.registry import entries
from shared.http.app import SPEC
from shared.http.openapi import ApiRoutes, ApiSpec, split_path
from tests.support import settings_for

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.mark.parametrize("service", ["booking", "placements", "notifications"])
def test_the_routers_api_routes_and_the_specs_operations_are_the_same_set(
    service: str, tmp_path: Path
) -> None:
    entry = entries()[service]
    settings = settings_for(
        entry.settings_type,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        broker="127.0.0.1:9",
        data_dir=tmp_path,
    )
    app = entry.create_app(settings)
    routed = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method in METHODS
        and route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
    }
    documented = {
        (method.upper(), path)
        for path, operations in app[SPEC].document()["paths"].items()
        for method in operations
    }
    assert routed
    assert routed == documented


def test_a_path_parameters_expression_becomes_its_pattern() -> None:
    path, params = split_path(r"/a/{id}/{year:\d{4}-\d{2}}/{outcome:complete|skip}")
    assert path == "/a/{id}/{year}/{outcome}"
    assert params == {"id": None, "year": r"\d{4}-\d{2}", "outcome": "complete|skip"}

    spec = ApiSpec("t", "1")
    routes = ApiRoutes(spec)

    @routes.get(r"/api/v1/years/{year:\d{4}}", summary="A year")
    async def year() -> None: ...

    assert [(r.method, r.path) for r in routes] == [("GET", r"/api/v1/years/{year:\d{4}}")]
    parameters = spec.document()["paths"]["/api/v1/years/{year}"]["get"]["parameters"]
    assert parameters == [
        {
            "name": "year",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": r"^(?:\d{4})$"},
        }
    ]
