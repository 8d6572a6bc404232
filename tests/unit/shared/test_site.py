"""Links across the site: each service knows where the others' pages are, from settings."""

from __future__ import annotations

import pytest

from services.booking.settings import BookingSettings
from services.placements.settings import PlacementsSettings
from shared.auth.principal import Role
from shared.http.site import Site
from shared.settings import ConfigError


def site_of(settings: BookingSettings | PlacementsSettings) -> Site:
    return Site(
        here=settings.service,
        booking=settings.site_url("booking"),
        placements=settings.site_url("placements"),
        notifications=settings.site_url("notifications"),
    )


def test_by_default_each_service_is_on_this_host_at_its_own_port() -> None:
    site = site_of(PlacementsSettings.from_env({}))
    assert site.home(Role.STUDENT) == "http://127.0.0.1:8081/my"
    assert site.home(Role.EBP) == "/placements/ebp"
    assert site.sign_in() == "http://127.0.0.1:8081/sign-in"
    assert site.url("notifications", "/notifications/my") == (
        "http://127.0.0.1:8083/notifications/my"
    )


def test_a_service_links_to_its_own_pages_by_path_and_to_the_others_by_address() -> None:
    site = site_of(BookingSettings.from_env({"BOOKING_HTTP_PORT": "9001"}))
    assert site.home(Role.ADVISER) == "/pa"
    assert site.sign_in() == "/sign-in"
    assert site.home(Role.EBP) == "http://127.0.0.1:8082/placements/ebp"


def test_one_origin_in_front_of_all_three_serves_every_home() -> None:
    site = site_of(BookingSettings.from_env({"PUBLIC_URL": "https://signpost.example.org/"}))
    assert {site.home(role) for role in Role} == {
        "/my",
        "/pa",
        "/coordinator",
        "https://signpost.example.org/placements/ebp",
        "/admin",
    }


def test_one_service_moved_elsewhere_is_linked_there() -> None:
    site = site_of(BookingSettings.from_env({"PLACEMENTS_PUBLIC_URL": "https://wex.example.org"}))
    assert site.home(Role.EBP) == "https://wex.example.org/placements/ebp"
    assert site.home(Role.STUDENT) == "/my"


def test_a_public_url_that_is_not_http_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="NOTIFICATIONS_PUBLIC_URL"):
        BookingSettings.from_env({"NOTIFICATIONS_PUBLIC_URL": "ftp://x"})
