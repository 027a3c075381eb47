# The two commands of the README: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
export FLASK_APP := wsgi

.PHONY: run test system-run system-test lint bench-engine bench-ingest bench-report bench-inbox translations

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

system-run:
	bash scripts/system-deps.sh run

system-test:
	bash scripts/system-deps.sh test

run: system-run $(VENV)/.installed
	bash scripts/run.sh

test: system-test $(VENV)/.installed
	$(VENV)/bin/python -m pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

bench-engine: system-test $(VENV)/.installed
	$(PY) -m bench.engine

# Storm of device messages through Mosquitto -> ingest -> cases, on PostgreSQL (own broker and database).
bench-ingest: system-test $(VENV)/.installed
	$(PY) -m bench.ingest

# One grid-month (5,000 cases), a street of 50 grids, and the monthly job on 2 workers (PostgreSQL).
bench-report: system-test $(VENV)/.installed
	$(PY) -m bench.report

# Inbox and case board page latency on PostgreSQL: 200,000 cases, 20,000 open tasks, 200 grids (own database).
bench-inbox: system-test $(VENV)/.installed
	$(PY) -m bench.inbox

# Compile every area's Chinese catalog (web/translations/<area>/zh/LC_MESSAGES/messages.po).
translations: $(VENV)/.installed
	for d in web/translations/*/; do $(VENV)/bin/pybabel compile -d $$d -l zh; done
