#!/usr/bin/env bash
# Runs the whole system on local defaults: migrate, demo community, then the project's MQTT
# broker (when scripts/broker.sh is there), web, worker, scheduler and MQTT ingest.
# Each service runs under a small supervisor that starts it again when it dies (after 1 s, then
# 2, 4... up to 30 s while it keeps dying), with a log line. Ctrl-C (or SIGTERM) stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=wsgi
mkdir -p var
flask=.venv/bin/flask
$flask db upgrade heads
$flask demo

RESTART_MAX_SECONDS=30
# A service that ran this long before dying was not crash-looping: its next wait starts at 1 s.
STEADY_SECONDS=60

# supervise NAME COMMAND...: run COMMAND, and again whenever it exits, until this is stopped.
supervise() {
    local name=$1 delay=1 child=0 started status
    shift
    trap 'kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; exit 0' TERM INT
    while true; do
        started=$SECONDS
        "$@" &
        child=$!
        status=0
        wait "$child" || status=$?
        if (( SECONDS - started >= STEADY_SECONDS )); then
            delay=1
        fi
        echo "run.sh: $name exited with status $status; starting it again in ${delay}s" >&2
        sleep "$delay" &
        child=$!
        wait "$child" || true
        delay=$(( delay * 2 > RESTART_MAX_SECONDS ? RESTART_MAX_SECONDS : delay * 2 ))
    done
}

pids=()
stop_all() {
    trap - INT TERM EXIT
    echo "run.sh: stopping" >&2
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait
    exit 0
}
trap stop_all INT TERM EXIT

if [[ -f scripts/broker.sh ]]; then
    supervise broker bash scripts/broker.sh & pids+=($!)
fi
supervise web .venv/bin/gunicorn --workers "${WEB_WORKERS:-2}" --bind "${BIND:-127.0.0.1:8000}" wsgi:app & pids+=($!)
supervise worker $flask worker & pids+=($!)
supervise scheduler $flask scheduler & pids+=($!)
supervise ingest $flask ingest mqtt & pids+=($!)
echo "web on http://${BIND:-127.0.0.1:8000}  (API token: .venv/bin/flask users token dispatcher)"
wait
