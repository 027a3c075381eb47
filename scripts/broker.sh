#!/usr/bin/env bash
# The project's Mosquitto in the foreground (make run's supervisor runs `bash scripts/broker.sh`).
# Writes its config (broker/mosquitto.conf with port and folder filled in), its password file
# (the ingest's account and every registered device) and ACL under DATA_DIR/broker, then
# becomes mosquitto; `flask ingest broker-files` rewrites the accounts and makes it reload.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLASK_APP=wsgi
conf=$(.venv/bin/flask ingest broker-files)
echo $$ > "$(dirname "$conf")/mosquitto.pid"
exec mosquitto -c "$conf"
