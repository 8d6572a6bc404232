"""Placements' HTTP API."""

from __future__ import annotations

from aiohttp import web

from shared.http.openapi import ApiSpec

spec = ApiSpec("Signpost placements", "1.0", "The work-experience clearing house.")
routes = web.RouteTableDef()
