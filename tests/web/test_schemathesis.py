"""schemathesis over /api/v1/openapi.json, in process (WSGI), as an administrator and as a grid
worker: data that fits the schema and data that does not, for every operation; no answer may
be a 5xx. Bounded: a few examples per operation and mode, and a time budget for the whole run.

The counts of the last run are printed (``pytest -s``): operations, calls, 5xx.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from extensions import db

# Examples per operation, mode and role; the budget is shared by both roles and all modes.
EXAMPLES = 6
BUDGET_SECONDS = 60.0
ROLES = ("admin", "gw01")


@dataclass
class Tally:
    operations: set[str] = field(default_factory=set)
    calls: int = 0
    server_errors: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)


def _exercise(operation, mode: GenerationMode, headers: dict, tally: Tally) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    def call(case) -> None:
        tally.calls += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # noqa: BLE001 - what escapes the app is a 500 in production
            tally.server_errors.append(f"raised {exc!r:.200} {case.method} {case.formatted_path}")
            return
        finally:
            # As at the end of a request in production (the test's app context outlives it).
            db.session.remove()
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.server_errors.append(f"{response.status_code} {case.method} {case.formatted_path} "
                                       f"query={case.query} body={str(case.body)[:200]}")

    call()


def test_no_generated_call_gets_a_5xx(backend, demo, auth, capsys):
    if backend != "postgresql":
        pytest.skip("one backend for the fuzzing run: PostgreSQL, the one that refuses more")
    demo.config["API_RATE_LIMIT"] = "100000/minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo)
    operations = [result.ok() for result in schema.get_all_operations()]
    tally = Tally()
    started = time.monotonic()
    for account in ROLES:
        headers = auth(account)
        for operation in operations:
            tally.operations.add(operation.label)
            _exercise(operation, GenerationMode.POSITIVE, headers, tally)
            # Data that breaks the schema while the budget lasts (on a loaded machine, less).
            if time.monotonic() - started < BUDGET_SECONDS:
                _exercise(operation, GenerationMode.NEGATIVE, headers, tally)
            else:
                tally.skipped.append(f"{account} {operation.label} negative")
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\nschemathesis: {len(tally.operations)} operations, {tally.calls} calls as {' and '.join(ROLES)}, "
              f"{len(tally.server_errors)} 5xx, {elapsed:.1f} s, negative runs skipped {len(tally.skipped)}; "
              f"statuses {dict(sorted(tally.statuses.items()))}")
    assert not tally.server_errors, "\n".join(tally.server_errors)
