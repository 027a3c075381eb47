"""``make bench-report``: PDF reports over realistic volumes on PostgreSQL.

A street of 50 grids in 5 communities. Grid 1 has 5,000 cases in the reported month; the other
49 have 1,000 each; every grid has as many in each of the five months before (what the trend
charts read). Cases and their events (about 14 per case: opened, task created/completed for
accept, dispatch, dispose, verify, feedback, close, reworks, escalations, the ending) are
generated directly and written with COPY, not run through the engine; task rows are not
written (reports do not read them).

Measured: (1) one grid-month of the 5,000-case grid and (2) the whole street, each built by
``flask reports build`` in a fresh process; (3) the monthly job: 50 grid-month reports queued and
built by two ``flask worker --burst`` processes. Time, pages and peak memory (max RSS) of each.
Targets: <= 3 s for one grid-month; all 50 grids <= 60 s with 2 workers.

Options (environment): BENCH_GRID_CASES (5000), BENCH_OTHER_CASES (1000), BENCH_MONTHS (6).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from bench.common import ROOT, postgres_database, print_table
from bench.report_data import CaseStory, case_row

GRID_CASES = int(os.environ.get("BENCH_GRID_CASES", "5000"))
OTHER_CASES = int(os.environ.get("BENCH_OTHER_CASES", "1000"))
MONTHS = int(os.environ.get("BENCH_MONTHS", "6"))
COMMUNITIES, GRIDS_PER_COMMUNITY = 5, 10
REDIS_URL = "redis://127.0.0.1:6379/2"
CASE_COLUMNS = ("id", "ref", "process_id", "category", "severity", "status", "source", "title", "description",
                "community_id", "grid_id", "escalated", "rework_count", "opened_at", "due_at", "closed_at",
                "version", "spec_hash", "engine_version", "serializer_version", "state")
EVENT_COLUMNS = ("case_id", "at", "kind", "actor_label", "step_kind", "data")
CHUNK = 20_000


def build_street() -> list[tuple[int, int, str]]:
    """The org tree, 50 grids with named staff and a grid worker each; returns (grid id, community id, code)."""
    from extensions import db
    from models import Grid, OrgUnit, ProcessSpec, User, transaction

    with transaction():
        district = OrgUnit(kind="district", code="bench-d", name="基准区")
        street = OrgUnit(kind="street", code="bench-street", name="基准街道", parent=district)
        db.session.add_all([district, street, ProcessSpec(hash="bench", process_id="grid_case",
                                                          engine_version="bench", spec="{}")])
        for c in range(1, COMMUNITIES + 1):
            community = OrgUnit(kind="community", code=f"bench-c{c}", name=f"基准第{c}社区", parent=street)
            db.session.add(community)
            for g in range(1, GRIDS_PER_COMMUNITY + 1):
                n = (c - 1) * GRIDS_PER_COMMUNITY + g
                grid = Grid(code=f"B{n:02d}", name=f"基准第{c}社区第{g}网格", community=community,
                            boundary={"type": "Polygon", "coordinates": []},
                            staff={role: f"{role[:1].upper()}{n:02d}"
                                   for role in ("grid_admin", "police", "environment", "mediator", "property")})
                db.session.add(grid)
                db.session.add(User(account=f"bgw{n:02d}", name=f"网格员{n:02d}", role="grid_worker",
                                    community=community, grids=[grid]))
    return [(g.id, g.community_id, g.code) for g in db.session.scalars(db.select(Grid).order_by(Grid.code))]


def load_cases(database_url: str, grids: list[tuple[int, int, str]], months: list[tuple[datetime, datetime]],
               now: datetime) -> tuple[int, int]:
    """COPY cases and events in chunks; returns (cases, events)."""
    import psycopg

    rng = random.Random(20261101)
    plan = []
    for n, (grid_id, community_id, _code) in enumerate(grids):
        per_month = GRID_CASES if n == 0 else OTHER_CASES
        for start, end in months:
            span = (end - start).total_seconds()
            plan.extend((grid_id, community_id, start + timedelta(seconds=rng.random() * span))
                        for _ in range(per_month))
    plan.sort(key=lambda p: p[2])
    plan = [p for p in plan if p[2] < now]
    events = 0
    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql")) as conn:
        for first in range(0, len(plan), CHUNK):
            stories = [CaseStory(rng, first + i + 1, grid_id, community_id, opened, now)
                       for i, (grid_id, community_id, opened) in enumerate(plan[first:first + CHUNK])]
            with conn.cursor() as cur:
                with cur.copy(f"COPY cases ({', '.join(CASE_COLUMNS)}) FROM STDIN") as copy:
                    for story in stories:
                        copy.write_row(case_row(story))
                with cur.copy(f"COPY case_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                    for story in stories:
                        for at, kind, data in story.events:
                            copy.write_row((story.case_id, at, kind, story.actor(kind), story.step_kind(kind, data),
                                            json.dumps(data)))
                            events += 1
            conn.commit()
        conn.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
        conn.execute("ANALYZE")
    return len(plan), events


class Measured:
    """A child process with its wall time, CPU time and peak memory.

    Peak memory is the kernel's high-water mark of the child's own address space (VmHWM, read
    while it runs): ru_maxrss would also count the copy of this (large) process made at fork."""

    def __init__(self, cmd: list[str], env: dict, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
        self.peak_kb = 0
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._poll, daemon=True)
        self._watch.start()

    def _poll(self) -> None:
        status = Path(f"/proc/{self.proc.pid}/status")
        while not self._stop.is_set():
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            except OSError:
                return
            self._stop.wait(0.05)

    def wait(self) -> Measured:
        _pid, status, usage = os.wait4(self.proc.pid, 0)
        self.wall = time.perf_counter() - self.started
        self.cpu = usage.ru_utime + usage.ru_stime
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self._stop.set()
        self._watch.join()
        return self


def flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", *args]


def cli_build(env: dict, scope: list[str], month: str) -> tuple[Measured, object]:
    """``flask reports build`` in a fresh process; the measured process and the report row."""
    with tempfile.TemporaryFile() as err:
        run = Measured(flask("reports", "build", *scope, "--month", month), env, stderr=err).wait()
        if run.proc.returncode:
            err.seek(0)
            raise RuntimeError(f"flask reports build failed: {err.read().decode()[-2000:]}")
    from extensions import db
    from models import Report

    db.session.rollback()
    return run, db.session.scalars(db.select(Report).order_by(Report.id.desc())).first()


def keep_earlier_months(grid_code: str, periods: list) -> None:
    """Build the grid's reports of the earlier months (oldest first), as the monthly job would
    have, so their final figures are kept for the trend."""
    from reports.builds import build_report, request_report
    from reports.scopes import resolve_scope

    started = time.perf_counter()
    for period in periods:
        build_report(request_report(resolve_scope("grid", grid_code), period, "schedule").id)
    print(f"(built the {len(periods)} earlier monthly reports of {grid_code} in "
          f"{time.perf_counter() - started:.1f} s, so their figures are kept)")


def main() -> None:
    from flask_migrate import upgrade

    from extensions import db, redis
    from models import Report
    from reports.jobs import queue_monthly_reports
    from reports.periods import previous_month, trend_periods
    from web import create_app

    prefix = f"bench-report-{uuid.uuid4().hex[:6]}"
    data_dir = tempfile.mkdtemp(prefix="bench-report-")
    with postgres_database("report") as url:
        overrides = {"DATABASE_URL": url, "REDIS_URL": REDIS_URL, "QUEUE_PREFIX": prefix, "DATA_DIR": data_dir}
        env = {**os.environ, "FLASK_APP": "wsgi", **{k: str(v) for k, v in overrides.items()}}
        app = create_app(overrides)
        with app.app_context():
            upgrade(revision="heads")
            grids = build_street()
            tz = app.config["COMMUNITY_TZ"]
            from zoneinfo import ZoneInfo

            month = previous_month(datetime.now(ZoneInfo(tz)).date())
            periods = trend_periods(month, MONTHS)
            months = [p.bounds(ZoneInfo(tz)) for p in periods]
            now = months[-1][1] + timedelta(hours=1)  # the data as the monthly job finds it
            started = time.perf_counter()
            n_cases, n_events = load_cases(url, grids, months, now)
            load_s = time.perf_counter() - started
            print(f"loaded {n_cases:,} cases and {n_events:,} events in {load_s:.1f} s "
                  f"({len(grids)} grids, {MONTHS} months; grid {grids[0][2]}: {GRID_CASES:,}/month, "
                  f"others {OTHER_CASES:,}/month); reported month {month.tag}")

            rows = []
            big = grids[0][2]
            for label, scope in ((f"grid {big}, {GRID_CASES:,} cases", ["--grid", big]),
                                 (f"grid {big} again, earlier months kept", ["--grid", big]),
                                 (f"grid {grids[1][2]}, {OTHER_CASES:,} cases", ["--grid", grids[1][2]]),
                                 (f"street, {len(grids)} grids", ["--street", "bench-street"])):
                if "kept" in label:
                    keep_earlier_months(big, periods[:-1])
                run, rep = cli_build(env, scope, month.tag)
                rows.append([label, rep.pages, f"{(rep.query_ms + rep.render_ms) / 1000:.2f}",
                             f"{rep.query_ms / 1000:.2f}", f"{rep.render_ms / 1000:.2f}", f"{run.wall:.2f}",
                             f"{run.cpu:.2f}", f"{run.peak_kb / 1024:.0f}"])
            print_table("One PDF each, `flask reports build` in a fresh process", [
                "report (one month)", "pages", "build s", "query s", "render s", "process wall s",
                "process CPU s", "peak MB"], rows)

            db.session.rollback()
            queued = queue_monthly_reports(month.tag)
            workers = [Measured(flask("worker", "--burst"), env) for _ in range(2)]
            for worker in workers:
                worker.wait()
            wall = max(w.wall for w in workers)
            db.session.rollback()
            built = list(db.session.scalars(db.select(Report).where(
                Report.trigger == "schedule", Report.starts_on == month.start)))
            done = [r for r in built if r.status == "done"]
            seconds = sorted((r.finished_at - r.started_at).total_seconds() for r in done)
            span = max(r.finished_at for r in done) - min(r.started_at for r in done)
            print_table("The monthly job: every grid's month, 2 workers (`flask worker --burst`)", [
                "reports", "built", "wall s (incl. worker start)", "first start to last end s",
                "per PDF mean s", "per PDF max s", "pages mean", "worker CPU s", "peak MB per worker"], [[
                    queued, len(done), f"{wall:.1f}", f"{span.total_seconds():.1f}",
                    f"{sum(seconds) / len(seconds):.2f}", f"{seconds[-1]:.2f}",
                    f"{sum(r.pages for r in done) / len(done):.1f}",
                    " + ".join(f"{w.cpu:.0f}" for w in workers),
                    " / ".join(f"{w.peak_kb / 1024:.0f}" for w in workers)]])
            cpu = sum(w.cpu for w in workers)
            print(f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end "
                  "(other work on the machine slows every wall-clock figure above).\n"
                  f"The two workers used {cpu:.0f} s of CPU for {len(done)} PDFs ({cpu / len(done):.2f} s each, "
                  f"PostgreSQL's own CPU not counted): about {cpu / 2:.0f} s of wall time on 2 idle cores.")
            verdicts = [f"{label}: {'met' if float(row[2]) <= 3 else 'NOT met'} ({row[2]} s build)"
                        for label, row in (("first", rows[0]), ("earlier months kept", rows[1]))]
            print(f"targets: one grid-month <= 3 s: {'; '.join(verdicts)}; 50 grids <= 60 s with 2 workers: "
                  f"{'met' if wall <= 60 else 'NOT met'} ({wall:.1f} s)")
            keys = list(redis.client.scan_iter(match=f"*{prefix}*", count=1000))
            if keys:
                redis.client.delete(*keys)
            db.session.remove()
            db.engine.dispose()
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
