"""The edges to devices and other systems: MQTT and HTTP ingest, sensor payloads, webhooks."""
