"""The one OpenAPI description of booking's API; every route module annotates against it."""

from __future__ import annotations

from shared.http.openapi import ApiSpec

spec = ApiSpec("Signpost booking", "1.0", "Guidance interviews, drop-ins and the directory.")
