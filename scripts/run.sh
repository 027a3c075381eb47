#!/usr/bin/env bash
# Runs the whole system on local defaults: migrate, demo community, web, worker, scheduler,
# MQTT ingest.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=wsgi
mkdir -p var
flask=.venv/bin/flask
$flask db upgrade heads
$flask demo
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM EXIT
.venv/bin/gunicorn --workers "${WEB_WORKERS:-2}" --bind "${BIND:-127.0.0.1:8000}" wsgi:app & pids+=($!)
$flask worker & pids+=($!)
$flask scheduler & pids+=($!)
$flask ingest mqtt & pids+=($!)
echo "web on http://${BIND:-127.0.0.1:8000}  (API token: .venv/bin/flask users token dispatcher)"
wait -n
