"""The baseline: the SQL one booking runs, as a pgbench script on the same server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bench.booking_rush.cohort import SCHOOL
from services.booking.domain.model import LONGEST_SESSION_MINUTES
from shared.devdb import asyncpg_dsn


def pgbench_script(n_students: int, n_advisers: int) -> str:
    """The statements one booking runs (see adapters/booking_reads.py).

    First the check that the token's session is still open (a read of its own, as the
    service makes it the first time it meets a session). Then, with the school, its
    calendar, the agreement and the advisers' kinds held in memory for a few seconds, one
    transaction reads once (a UNION ALL of the student, calendar time, waitlist offers, the
    day's loads and the appointments around the slot), inserts the appointment and its
    outbox event, and commits. Times are random minutes over ten years and advisers are per
    client, so the inserts rarely collide; a collision is absorbed by ON CONFLICT DO
    NOTHING, which still costs the exclusion-constraint check a real booking pays. (A
    student without priority flags reads no history, as in the rush.)
    """
    advisers = "ARRAY[" + ", ".join(f"'bench-pa-{a:02d}'" for a in range(n_advisers)) + "]"
    student = "('bench-student-' || lpad(:n::text, 6, '0'))"
    adviser = "('pgbench-' || :client_id)"
    slot = "(timestamptz '2030-01-01' + :minute * interval '1 minute')"
    end = f"({slot} + interval '40 minutes')"
    day = f"date_trunc('day', {slot})"
    return f"""\\set n random(0, {n_students - 1})
\\set minute random(0, 5256000)
SELECT * FROM sessions WHERE id = lpad(to_hex(:n + 1), 32, '0')::uuid::text;
BEGIN;
SELECT 'busy', NULL, adviser_id, starts_at, ends_at, NULL, NULL FROM adviser_busy
  WHERE adviser_id = ANY({advisers}) AND starts_at < {end} AND ends_at > {slot}
UNION ALL SELECT 'student', id, school_id, NULL, NULL, year_group, CAST(priority_flags AS TEXT)
  FROM students WHERE id = {student}
UNION ALL SELECT 'offer', student_id, adviser_id, starts_at, ends_at, NULL, NULL
  FROM waitlist_offers WHERE status = 'open'
  AND (adviser_id = ANY({advisers}) AND starts_at < {end} AND ends_at > {slot}
  OR student_id = {student} AND starts_at = {slot})
UNION ALL SELECT 'load', NULL, adviser_id, NULL, NULL, sum(minutes), NULL FROM appointments
  WHERE school_id = '{SCHOOL}' AND adviser_id = ANY({advisers}) AND status != 'cancelled'
  AND starts_at >= {day} AND starts_at < {day} + interval '1 day'
  GROUP BY adviser_id
UNION ALL SELECT 'appointment', id, adviser_id, starts_at, ends_at, capacity, student_id
  FROM appointments WHERE status = 'confirmed' AND starts_at < {end} AND ends_at > {slot}
  AND starts_at >= {slot} - interval '{LONGEST_SESSION_MINUTES} minutes'
  AND (adviser_id = ANY({advisers}) OR student_id = {student});
INSERT INTO appointments (id, school_id, student_id, adviser_id, session_type, starts_at,
  ends_at, minutes, location, status, revision, place_key, seat, capacity, booked_by,
  created_at, updated_at)
  SELECT u, '{SCHOOL}', {student}, {adviser}, 'interview', {slot},
  {end}, 40, 'Careers room', 'confirmed', 1, u, 1, 1, 'student',
  now(), now()
  FROM (SELECT gen_random_uuid()::text AS u) AS p
  ON CONFLICT DO NOTHING;
INSERT INTO outbox (event_id, topic, key, event_type, body, created_at)
  VALUES (gen_random_uuid()::text, 'booking.events', gen_random_uuid()::text,
  'booking.appointment.confirmed', repeat('x', 420), now());
COMMIT;
"""


def run_pgbench(url: str, script: str, clients: int, seconds: int, work: Path) -> float:
    path = work / "booking.sql"
    path.write_text(script)
    parsed = make_url(url)
    command = [
        shutil.which("pgbench") or "pgbench",
        "-n",
        "-c",
        str(clients),
        "-j",
        str(min(clients, os.cpu_count() or 2)),
        "-T",
        str(seconds),
        "-f",
        str(path),
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        parsed.database or "postgres",
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PGPASSWORD": parsed.password or ""},
    )
    found = re.search(r"tps = ([\d.]+)", done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"pgbench failed: {done.stderr or done.stdout}")
    return float(found.group(1))


async def max_connections(url: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(await conn.fetchval("SHOW max_connections"))
    finally:
        await conn.close()
