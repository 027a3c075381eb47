"""``flask ingest mqtt``: the device ingest service; ``flask ingest sweep``: its periodic checks."""
from __future__ import annotations

import signal

import click
from flask import current_app

from integrations.alarm_work import sweep_alarm_work
from integrations.broker_files import registry_devices, reload_broker, write_broker_files
from integrations.mqtt_service import IngestService
from integrations.presence import mark_silent_devices_offline, purge_ingest_records


@click.group("ingest")
def ingest_cli():
    """Device messages: MQTT ingest and its checks."""


@ingest_cli.command("mqtt")
def mqtt_command():
    """Subscribe to community/+/+/+/event and .../status and turn messages into alarms.

    Stops on SIGTERM or Ctrl-C after the batch in hand; unacknowledged messages are
    redelivered to the next run by the broker."""
    config = current_app.config
    service = IngestService(current_app._get_current_object())
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: service.stop())
    click.echo(f"ingest: MQTT {config['MQTT_HOST']}:{config['MQTT_PORT']} as {config['MQTT_CLIENT_ID']}")
    service.run()


@ingest_cli.command("sweep")
@click.option("--grace", default=60, show_default=True, help="seconds alarm work may be outstanding")
def sweep_command(grace: int):
    """Mark silent devices offline, queue alarm work whose job was lost, forget old message ids."""
    click.echo(f"{mark_silent_devices_offline()} device(s) went offline")
    click.echo(f"{sweep_alarm_work(grace_seconds=grace)} alarm(s) queued for follow-up")
    ids, letters = purge_ingest_records()
    click.echo(f"forgot {ids} message id(s) and {letters} dead letter(s)")


@ingest_cli.command("broker-files")
def broker_files_command():
    """Write the project broker's mosquitto.conf, password file (service account and every
    device: code and key) and ACL under DATA_DIR/broker; print the conf path. A running broker
    started by scripts/broker.sh reads the password file and ACL again."""
    config = current_app.config
    try:
        devices = registry_devices()
    except Exception as exc:  # noqa: BLE001 - the broker must start even before the first migration
        click.echo(f"devices not read ({type(exc).__name__}); only the service account can sign in", err=True)
        devices = []
    path = write_broker_files(config, devices)
    if reload_broker(config):
        click.echo("the running broker reloads its accounts", err=True)
    click.echo(str(path))
