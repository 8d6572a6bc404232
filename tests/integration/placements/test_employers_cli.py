"""Employer import and export through `signpost placements`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from services.cli import main
from services.placements.adapters.orm import employers, placements
from services.placements.adapters.repository import load_round
from services.placements.adapters.uow import PlacementsUnitOfWork
from services.placements.application.employers import employer_id_for
from services.placements.application.preferences import SubmitPreferences, submit_preferences
from services.placements.application.rounds import OpenRound, open_round
from services.placements.bootstrap import MIGRATIONS
from services.placements.domain.model import Preference
from shared.db import Database
from shared.messaging.tables import outbox
from shared.migrations import upgrade
from tests.integration.placements.conftest import (
    EBP,
    EMPLOYERS_CSV,
    SCHOOL_A,
    SCHOOL_B,
    STUDENTS,
    WEEK_1,
    WEEK_2,
    seed_county,
)

BAD_ROWS = """\
employer_ref,employer_name,contact_email,postcode,health_safety_expires,insurance_expires,\
placement_ref,title,sector,weeks,capacity_per_week
E-1,Maidstone Hospital,wex@hospital.example,ME16 9QQ,2028-01-31,2028-01-31,P-HEALTH,Changed \
title,health,2027-W25,4
E-9,New Firm,not-an-email,ME14 1AA,2028-01-31,2028-01-31,P-NEW,Clerk,law,2027-W61,1
E-10,Far Away Ltd,a@far.example,ZZ9 9ZZ,2028-01-31,2028-01-31,P-FAR,Clerk,law,2027-W25,1
"""


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SIGNPOST_ENV", "test")
    monkeypatch.setenv("SIGNPOST_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PLACEMENTS_DATABASE_URL", database_url)
    return database_url


def _snapshot(url: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        db = Database(url)
        try:
            async with db.read_session() as s:
                return {
                    name: sorted(tuple(r) for r in (await s.execute(sa.select(t))).all())
                    for name, t in (("employers", employers), ("placements", placements))
                } | {"outbox": await s.scalar(sa.select(sa.func.count()).select_from(outbox))}
        finally:
            await db.dispose()

    return asyncio.run(read())


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_with_bad_rows_changes_nothing_and_names_line_and_field(
    cli: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["placements", "import-employers", str(_file(tmp_path, "ok.csv", EMPLOYERS_CSV))]) == 0
    )
    before = _snapshot(cli)
    assert len(before["employers"]) == 4 and len(before["placements"]) == 4
    capsys.readouterr()

    bad = _file(tmp_path, "bad.csv", BAD_ROWS)
    assert main(["placements", "import-employers", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing was imported" in err
    assert "line 3, field 'contact_email'" in err
    assert "line 3, field 'weeks'" in err
    assert "line 4, field 'postcode'" in err
    assert "line 2" not in err
    assert _snapshot(cli) == before

    clash = EMPLOYERS_CSV + (
        "E-1,Maidstone General,wex@hospital.example,ME16 9QQ,,,2028-01-31,2028-01-31,P-HEALTH-2,"
        "Porter,health,2027-W25,1,14,\n"
    )
    assert main(["placements", "import-employers", str(_file(tmp_path, "c.csv", clash))]) == 1
    err = capsys.readouterr().err
    assert "line 6, field 'employer_name': differs from line 2" in err
    assert _snapshot(cli) == before


NAMED_SECTORS = """\
employer_ref,employer_name,contact_email,postcode,health_safety_expires,insurance_expires,\
placement_ref,title,sector,weeks,capacity_per_week
E-20,Salon,a@salon.example,ME14 1AA,2028-01-31,2028-01-31,P-SALON,Stylist,Hair & Beauty,2027-W25,1
E-21,Kennels,a@kennels.example,ME14 1AA,2028-01-31,2028-01-31,P-DOGS,Kennel hand,\
 Animal  Care ,2027-W25,1
E-22,Code Shop,a@code.example,ME14 1AA,2028-01-31,2028-01-31,P-CODE,Tester,IT,2027-W25,1
E-23,Bank,a@bank.example,ME14 1AA,2028-01-31,2028-01-31,P-BANK,Clerk,finance,2027-W25,1
"""


def test_sector_names_are_read_as_their_slugs_and_an_unknown_one_lists_the_known(
    cli: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    named = _file(tmp_path, "named.csv", NAMED_SECTORS)
    assert main(["placements", "import-employers", str(named)]) == 0
    assert "3 sector names normalised" in capsys.readouterr().out
    sectors = {row[1]: row[4] for row in _snapshot(cli)["placements"]}
    assert sectors == {
        "P-SALON": "hair_and_beauty",
        "P-DOGS": "animal_care",
        "P-CODE": "it",
        "P-BANK": "finance",
    }
    unknown = NAMED_SECTORS.replace("Hair & Beauty", "Plumbing")
    assert main(["placements", "import-employers", str(_file(tmp_path, "u.csv", unknown))]) == 1
    err = capsys.readouterr().err
    assert "line 2, field 'sector'" in err and "'Plumbing' is not a known sector" in err
    assert "known sectors: agriculture, animal_care," in err


def test_reimport_is_idempotent_and_an_export_imports_back_unchanged(
    cli: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _file(tmp_path, "employers.csv", EMPLOYERS_CSV)
    assert main(["placements", "import-employers", str(source), "--ebp", "ebp-kent"]) == 0
    assert "4 employers added" in capsys.readouterr().out
    first = _snapshot(cli)
    assert first["outbox"] == 4  # one contact point announced per employer

    assert main(["placements", "import-employers", str(source), "--ebp", "ebp-kent"]) == 0
    assert "0 employers added, 0 updated; 0 placements added, 0 updated, 4 unchanged" in (
        capsys.readouterr().out
    )
    assert _snapshot(cli) == first

    exported = tmp_path / "export.csv"
    assert main(["placements", "export-employers", "-o", str(exported)]) == 0
    assert main(["placements", "import-employers", str(exported), "--ebp", "ebp-kent"]) == 0
    assert "4 unchanged" in capsys.readouterr().out
    assert _snapshot(cli) == first

    rows = {r[0]: r for r in first["employers"]}
    hospital = rows[employer_id_for("E-1")]
    assert hospital[10:12] == (51.275, 0.495)  # ME16's centre, from the district table


def test_an_import_for_one_partnership_cannot_take_over_anothers_references(
    cli: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _file(tmp_path, "employers.csv", EMPLOYERS_CSV)
    assert main(["placements", "import-employers", str(source), "--ebp", "ebp-kent"]) == 0
    capsys.readouterr()
    before = _snapshot(cli)

    assert main(["placements", "import-employers", str(source), "--ebp", "ebp-medway"]) == 1
    err = capsys.readouterr().err
    assert "nothing was imported" in err
    assert re.search(r"line 2\b.*employer_ref.*another partnership", err), err
    assert re.search(r"line 2\b.*placement_ref.*another partnership", err), err
    assert _snapshot(cli) == before

    # The owner may still update its own records.
    assert main(["placements", "import-employers", str(source), "--ebp", "ebp-kent"]) == 0
    assert "4 unchanged" in capsys.readouterr().out


def test_vetting_lists_checks_lapsed_or_lapsing_within_the_window(
    cli: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["placements", "import-employers", str(_file(tmp_path, "e.csv", EMPLOYERS_CSV))]) == 0
    )
    capsys.readouterr()
    assert main(["placements", "vetting", "--days", "30"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "health_and_safety" in out[0] and "EXPIRED" in out[0]


def test_run_and_export_of_an_unknown_round_say_so(
    cli: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["placements", "run", "no-such-round", "--seed", "3"]) == 1
    assert "No allocation round no-such-round" in capsys.readouterr().err
    assert main(["placements", "export", "no-such-round"]) == 1


def test_run_publish_and_export_a_round_from_the_command_line(
    cli: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    round_id = asyncio.run(_round_with_preferences(cli))
    assert main(["placements", "run", round_id, "--seed", "2"]) == 0
    out = capsys.readouterr().out
    found = re.search(r"^run ([0-9a-f-]{36})$", out, re.MULTILINE)
    assert found is not None, out
    run_id = found.group(1)
    assert '"placed": 5' in out and '"blocking_pairs": 0' in out

    assert main(["placements", "runs", round_id]) == 0
    assert f"{run_id}  seed=2" in capsys.readouterr().out
    assert main(["placements", "export", round_id]) == 1
    assert "not published" in capsys.readouterr().err
    proposed = tmp_path / "proposed.csv"
    assert main(["placements", "export", round_id, "--run", run_id, "-o", str(proposed)]) == 0
    proposals = proposed.read_text(encoding="utf-8").splitlines()
    assert len(proposals) == 6 and all(",proposed," in line for line in proposals[1:])
    assert main(["placements", "export", round_id, "--run", "no-such-run"]) == 1

    assert main(["placements", "publish", round_id, run_id]) == 0
    assert "published 5 allocations" in capsys.readouterr().out
    assert main(["placements", "publish", round_id, run_id]) == 1

    exported = tmp_path / "allocations.csv"
    assert main(["placements", "export", round_id, "-o", str(exported)]) == 0
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("student_id,school_id,week,rank,status,placement_ref")
    assert len(lines) == 6
    assert all(",published," in line for line in lines[1:])


async def _round_with_preferences(url: str) -> str:

    db = Database(url)
    try:
        await upgrade(db, MIGRATIONS)
        await seed_county(db)
        async with PlacementsUnitOfWork(db, producer="placements") as uow:
            opened = await open_round(
                OpenRound(
                    ebp_id=EBP,
                    name="CLI round",
                    year_group=10,
                    deadline=datetime.now(UTC) + timedelta(days=5),
                    school_weeks={SCHOOL_A: [WEEK_1], SCHOOL_B: [WEEK_1, WEEK_2]},
                    opened_by="ebp-staff",
                ),
                uow,
                datetime.now(UTC),
            )
        round_id = opened.id
        async with db.read_session() as s:
            record = await load_round(s, round_id)
        assert record is not None
        choices = [
            Preference.for_sector("health"),
            Preference.for_sector("it"),
            Preference.for_sector("animal_care"),
        ]
        for student_id in STUDENTS:
            async with PlacementsUnitOfWork(db, producer="placements") as uow:
                cmd = SubmitPreferences(record, student_id, choices, 15.0, [])
                await submit_preferences(cmd, uow, datetime.now(UTC))
        return round_id
    finally:
        await db.dispose()
