"""`NotionWebhookInbox`: the Dagster face of the webhook event store the receiver fills and the sensor reads."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from ppm_resources.notion.webhooks import WebhookInbox


class NotionWebhookInbox(dg.ConfigurableResource):
    """Where `ppm serve-webhooks` stores Notion's events (NOTION_WEBHOOK_STORE).

    A relative path is read from the working directory of the process that uses it: run the receiver and
    Dagster from the same directory, or configure an absolute path.
    """

    path: str = Field(description="SQLite file of received Notion webhook events.")

    def inbox(self) -> WebhookInbox:
        return WebhookInbox(Path(self.path))
