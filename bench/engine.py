"""``make bench-engine``: the cost of a case, from the bare engine to HTTP, in one run.

(1) bare SpiffWorkflow: create + run to the first user task + serialize (library defaults);
(2) ``open_case`` through the service layer, on SQLite and on PostgreSQL;
(3) ``POST /api/v1/cases`` over HTTP (gunicorn, 2 workers, PostgreSQL);
(4) completing a task over HTTP.
(2) runs twice on PostgreSQL: as configured (the deployment marker read every
PROCESS_RELOAD_SECONDS) and with the marker read before every case (0 s): the price of
picking up a deploy without a restart.
"""
from __future__ import annotations

import http.client
import json
import os
import tempfile
import uuid

from bench.common import gunicorn, postgres_database, print_table, summary, timed

N_ENGINE, N_SERVICE, N_HTTP = 2000, 500, 500


def bare_engine_samples() -> list[float]:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.parser import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    from workflows.specs import BPMN_DIR

    parser = SpiffBpmnParser()
    parser.add_bpmn_files([str(BPMN_DIR / "grid_case.bpmn")])
    parser.add_dmn_files([str(p) for p in BPMN_DIR.glob("*.dmn")])
    spec, subs = parser.get_spec("grid_case"), parser.get_subprocess_specs("grid_case")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

    from handlers.sla import SCRIPT_FUNCTIONS

    engine = PythonScriptEngine(environment=TaskDataEnvironment(dict(SCRIPT_FUNCTIONS)))

    def one():
        wf = BpmnWorkflow(spec, subs, script_engine=engine)
        wf.task_tree.data.update(category="manhole_tilt", severity="normal", source="resident",
                                 has_reporter=True, opened_at="2026-11-24T08:00:00+00:00", grid_id=1)
        wf.do_engine_steps()
        serializer.serialize_json(wf)

    return timed(one, N_ENGINE)


def service_samples(database_url: str, reload_seconds: float | None = None) -> list[float]:
    from flask_migrate import upgrade

    from extensions import db
    from web import create_app
    from web.commands.demo import build_demo_community
    from workflows import open_case
    from workflows.cases import CaseRequest

    overrides = {"DATABASE_URL": database_url, "QUEUE_PREFIX": f"bench-{uuid.uuid4().hex[:6]}"}
    if reload_seconds is not None:
        overrides["PROCESS_RELOAD_SECONDS"] = reload_seconds
    app = create_app(overrides)
    with app.app_context():
        upgrade(revision="heads")
        build_demo_community()

        def one():
            open_case(CaseRequest(category="manhole_tilt", lat=30.275, lon=120.105,
                                  description="bench", source="grid_worker"))
            db.session.remove()

        samples = timed(one, N_SERVICE)
        db.engine.dispose()
    return samples


def http_samples(database_url: str) -> tuple[list[float], list[float]]:
    from flask_migrate import upgrade

    from extensions import db
    from handlers.tokens import issue_token
    from models import User
    from web import create_app
    from web.commands.demo import build_demo_community

    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    secret = uuid.uuid4().hex
    app = create_app({"DATABASE_URL": database_url, "QUEUE_PREFIX": prefix, "SECRET_KEY": secret})
    with app.app_context():
        upgrade(revision="heads")
        build_demo_community()
        tokens = {a: issue_token(db.session.scalar(db.select(User).where(User.account == a)))
                  for a in ("gw01", "dispatcher")}
        db.engine.dispose()
    env = {"DATABASE_URL": database_url, "QUEUE_PREFIX": prefix, "SECRET_KEY": secret}
    body = json.dumps({"category": "manhole_tilt", "lat": 30.275, "lon": 120.105,
                       "description": "井盖倾斜", "source": "grid_worker"})
    accept_ids: list[int] = []
    with gunicorn(env) as port:
        def post(path: str, payload: str, token: str) -> dict:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", path, payload, {"Content-Type": "application/json",
                                                 "Authorization": f"Bearer {token}"})
            res = conn.getresponse()
            data = json.loads(res.read())
            conn.close()
            if res.status >= 300:
                raise RuntimeError(f"{path}: {res.status} {data}")
            return data

        def create():
            accept_ids.append(post("/api/v1/cases", body, tokens["gw01"])["tasks"][0]["id"])

        created = timed(create, N_HTTP)
        done = {"accepted": True, "note": "bench"}
        pending = iter(list(accept_ids))

        def complete():
            post(f"/api/v1/tasks/{next(pending)}/complete", json.dumps({"data": done}), tokens["dispatcher"])

        completed = timed(complete, min(N_HTTP, len(accept_ids) - 20))
    return created, completed


def main() -> None:
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    bare = bare_engine_samples()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = service_samples(f"sqlite:///{tmp}/bench.db")
    with postgres_database("engine") as url:
        postgres = service_samples(url)
    with postgres_database("marker") as url:
        every_case = service_samples(url, reload_seconds=0)
    with postgres_database("http") as url:
        http_create, http_complete = http_samples(url)

    base = summary(bare)[0]
    rows = []
    for label, samples, n in [
        ("(1) bare SpiffWorkflow create+run+serialize", bare, N_ENGINE),
        ("(2) open_case service, SQLite", sqlite, N_SERVICE),
        ("(2) open_case service, PostgreSQL", postgres, N_SERVICE),
        ("(2) same, deployment marker read before every case", every_case, N_SERVICE),
        ("(3) POST /api/v1/cases, gunicorn 2w, PostgreSQL", http_create, N_HTTP),
        ("(4) complete task over HTTP, PostgreSQL", http_complete, len(http_complete)),
    ]:
        median, p95, per_s = summary(samples)
        ratio = f"{median / base:.1f}x" if not label.startswith("(1)") else "1.0x"
        rows.append([label, str(n), f"{median:.2f}", f"{p95:.2f}", f"{per_s:.0f}", ratio])
    print_table("bench-engine (one run; sequential calls; ratio = median / median of (1))",
                ["measure", "n", "median ms", "p95 ms", "per s", "vs (1)"], rows)


if __name__ == "__main__":
    main()
