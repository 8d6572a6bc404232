"""The outbox's own settings: defaults, and refusals that name the variable."""

from __future__ import annotations

import pytest

from services.notifications.settings import NotificationsSettings
from shared.settings import ConfigError


def test_a_row_is_tried_five_times_and_kept_fourteen_days_by_default() -> None:
    settings = NotificationsSettings.from_env({})
    assert (settings.outbox_max_attempts, settings.outbox_retention_days) == (5, 14)


@pytest.mark.parametrize(
    ("name", "value"),
    [("OUTBOX_MAX_ATTEMPTS", "0"), ("OUTBOX_RETENTION_DAYS", "0"), ("OUTBOX_MAX_ATTEMPTS", "x")],
)
def test_an_unusable_outbox_setting_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        NotificationsSettings.from_env({name: value})
