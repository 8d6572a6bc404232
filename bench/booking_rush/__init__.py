"""Booking rush: a year group books a school's newly released week of interview slots at once.

Runs the real booking service (a subprocess) against PostgreSQL and a local broker, then N
students book through C concurrent HTTP clients. Prints bookings per second, p50/p99
latency and double bookings (which must be 0). In the same run, on the same server, pgbench
runs the SQL one booking runs (as a pgbench script at the same concurrency, capped by the
server's connection limit); the ratio of the two rates is what Python, aiohttp and
SQLAlchemy cost on top of the database.

    python -m bench.booking_rush                 # 500 students, 200 clients
    python -m bench.booking_rush --quick         # a smoke run in well under a minute
    python -m bench.booking_rush --json out.json

Needs a PostgreSQL server (BENCH_POSTGRES_URL, default the local one as user postgres) and
`pgbench` on the PATH (Debian: postgresql-contrib or postgresql-client).
"""
