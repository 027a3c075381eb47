"""``flask keys rotate-sm4``: personal data re-encrypted under a new SM4 key."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

import keystore
from handlers.key_rotation import RotationRefused, reencrypt_personal_data


@click.group("keys")
def keys_cli():
    """The keys of the system (generated into DATA_DIR/keys/ unless configured)."""


@keys_cli.command("rotate-sm4")
def rotate_sm4_command():
    """Re-encrypt every phone and ID number under a new SM4 key, in one transaction, then
    install the key. The old key stays readable until the new one is in place."""
    config = current_app.config
    folder = keystore.key_dir(config["DATA_DIR"])
    old_key, new_key = config["SM4_KEY"], keystore.new_sm4_key()
    # On disk before any value uses it: whatever happens next, every value stays readable.
    keystore.write_key(folder / keystore.SM4_NEXT_FILE, new_key)
    try:
        count = reencrypt_personal_data(new_key)
    except RotationRefused as exc:
        keystore.remove_key(folder / keystore.SM4_NEXT_FILE)
        raise click.ClickException(str(exc)) from None
    current_app.extensions.pop("sm4_file_keys", None)
    if config.get("SM4_KEY_FILE"):
        # Kept so processes started before the rotation (holding the old key) write readably.
        keystore.write_key(folder / keystore.SM4_RETIRED_FILE, old_key)
        keystore.write_key(Path(config["SM4_KEY_FILE"]), new_key)
        keystore.remove_key(folder / keystore.SM4_NEXT_FILE)
        config["SM4_KEY"] = new_key
        click.echo(f"re-encrypted {count} values; the new key is in {config['SM4_KEY_FILE']}. Restart the web, "
                   f"worker, scheduler and ingest processes, then delete {folder / keystore.SM4_RETIRED_FILE}.")
        return
    click.echo(f"re-encrypted {count} values. SM4_KEY is set in the environment: set SM4_KEY={new_key} and "
               f"SM4_RETIRED_KEYS={old_key} (until every process is restarted), then restart them. Until then the "
               f"new key is read from {folder / keystore.SM4_NEXT_FILE}.")
