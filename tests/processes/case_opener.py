"""A long-running process that opens cases on request, as a worker or the ingest would:
``python -m tests.processes.case_opener '<settings as JSON>'``; each line ``open <category>``
on stdin opens a case and prints it as JSON. Used to show a deploy reaching a running process."""
from __future__ import annotations

import json
import sys

from tests.builders import new_case
from web import create_app


def main() -> None:
    app = create_app(json.loads(sys.argv[1]))
    with app.app_context():
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            command, _, category = line.strip().partition(" ")
            if command != "open":
                break
            case = new_case(category)
            print(json.dumps({"ref": case.ref, "department": case.department, "spec_hash": case.spec_hash,
                              "due_hours": (case.due_at - case.opened_at).total_seconds() / 3600}), flush=True)


if __name__ == "__main__":
    main()
