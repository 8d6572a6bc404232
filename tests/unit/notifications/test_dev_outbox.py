"""The `/dev/outbox` page, which shows message texts, exists outside production only."""

from __future__ import annotations

from pathlib import Path

from services.notifications.bootstrap import create_app
from services.notifications.settings import NotificationsSettings
from tests.unit.notifications.test_message_rules import PRODUCTION, REAL


def _paths(settings: NotificationsSettings) -> set[str]:
    app = create_app(settings)
    return {r.resource.canonical for r in app.router.routes() if r.resource is not None}


def test_the_outbox_page_is_served_in_development_and_never_in_production(tmp_path: Path) -> None:
    development = NotificationsSettings.from_env({"SIGNPOST_DATA_DIR": str(tmp_path)})
    assert "/dev/outbox" in _paths(development)
    production = NotificationsSettings.from_env(
        {**PRODUCTION, **REAL, "SIGNPOST_DATA_DIR": str(tmp_path)}
    )
    assert "/dev/outbox" not in _paths(production)
