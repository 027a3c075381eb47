"""A process that was already running (a worker, the ingest) uses a deploy for its next case."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from extensions import db
from tests.processes.edits import routing_to_property

ROOT = Path(__file__).resolve().parents[2]
RELOAD_SECONDS = 1.0


def test_a_running_process_opens_its_next_case_on_the_new_route_without_restart(app, demo, deploy):
    settings = {key: app.config[key] for key in (
        "DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "QUEUE_PREFIX", "SECRET_KEY", "SM4_KEY", "DATA_DIR")}
    settings.update(TESTING=True, PROCESS_RELOAD_SECONDS=RELOAD_SECONDS)
    settings["DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.commit()  # nothing of this process's holds the SQLite file while the other writes
    opener = subprocess.Popen([sys.executable, "-m", "tests.processes.case_opener", json.dumps(settings)],
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        def opened(category: str = "manhole_tilt") -> dict:
            db.session.commit()
            opener.stdin.write(f"open {category}\n")
            opener.stdin.flush()
            return json.loads(opener.stdout.readline())

        assert json.loads(opener.stdout.readline()) == {"ready": True}
        first = opened()
        assert first["department"] == "municipal"

        assert deploy("routing.dmn", routing_to_property()).status_code == 201
        db.session.commit()
        time.sleep(RELOAD_SECONDS + 0.2)
        second = opened()
        assert second["department"] == "property" and second["spec_hash"] != first["spec_hash"]
    finally:
        opener.stdin.close()
        opener.wait(timeout=30)
