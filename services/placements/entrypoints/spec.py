"""The one OpenAPI description of placements' API; every route module declares against it."""

from __future__ import annotations

from shared.http.openapi import ApiSpec

spec = ApiSpec("Signpost placements", "1.0", "The work-experience clearing house.")
