"""Logs carry ids and what went wrong, never the data a failing function was holding."""

from __future__ import annotations

import io
import json

from shared.logging import configure_logging, get_logger


def test_an_exception_is_logged_without_the_local_variables_of_its_frames() -> None:
    stream = io.StringIO()
    configure_logging("test", "INFO", stream=stream)

    def sign_in(email: str, password: str) -> None:
        raise RuntimeError("database went away")

    try:
        sign_in("pupil@school.example", "correct horse battery")
    except RuntimeError:
        get_logger("test").exception("identity.sign_in_failed")
    line = stream.getvalue().strip().splitlines()[-1]
    record = json.loads(line)
    assert record["message"] == "identity.sign_in_failed"
    assert "database went away" in line
    assert "correct horse battery" not in line
    assert "pupil@school.example" not in line
