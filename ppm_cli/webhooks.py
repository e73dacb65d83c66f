"""`ppm serve-webhooks`: the Notion webhook receiver, served by uvicorn until Ctrl-C."""

from __future__ import annotations

import logging
from pathlib import Path

import click


@click.command("serve-webhooks")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8790, show_default=True, type=int, help="Port to listen on.")
def serve_webhooks(host: str, port: int) -> None:
    """Receive Notion webhooks at POST /notion/webhooks into NOTION_WEBHOOK_STORE (read by the webhook sensor)."""
    import uvicorn

    from ppm_resources import SettingsError, load_settings
    from ppm_resources.notion.webhook_app import TOKEN_VARIABLE, WEBHOOK_PATH, build_webhook_app
    from ppm_resources.notion.webhooks import read_token, token_path

    try:
        settings = load_settings()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    store = Path(settings.notion.webhook_store)
    secret = settings.notion.webhook_verification_token
    env_token = secret.get_secret_value() if secret else None
    token_file = token_path(store)
    if env_token:
        token = f"from {TOKEN_VARIABLE}"
    elif read_token(token_file):
        token = f"stored in {token_file.resolve()}"
    else:
        token = f"none yet: Notion's subscription handshake will store it in {token_file.resolve()}"
    click.echo(f"receiving Notion webhooks at http://{host}:{port}{WEBHOOK_PATH} (health: /health)")
    click.echo(f"events stored in {store.resolve()}; verification token {token}")
    # Our own log lines (handshake, refusals) beside uvicorn's; no line carries a token or a signature.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_webhook_app(store, env_token=env_token)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)
