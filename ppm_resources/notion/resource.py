"""`NotionResource`: the Dagster face of the Notion client (configuration, database id resolution)."""

from __future__ import annotations

import logging
from typing import Any

import dagster as dg
from pydantic import Field, SecretStr

from ppm_resources.notion.client import NotionClient, NotionClientConfig
from ppm_resources.notion.errors import NotionError
from ppm_resources.notion.mapping import NotionMapping

# httpx logs every request at INFO: thousands of lines per sync in the run log, and nothing the client's own
# progress and error messages do not already say.
logging.getLogger("httpx").setLevel(logging.WARNING)


class NotionResource(dg.ConfigurableResource):
    """Builds one `NotionClient` per run (they share the per-token rate limiter); resolves database ids.

    The token is configured as `EnvVar("NOTION_TOKEN")` for real Notion, so the UI shows the variable's
    name, never its value.
    """

    base_url: str
    token: str
    api_version: str = "2022-06-28"
    rate_limit_rps: float = 3.0
    rate_limit_burst: int = 3
    max_concurrency: int = 8
    mass_delete_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="A sync refuses to tombstone more than this share of a database's live pages at once.",
    )
    max_retries: int = Field(default=5, ge=0, description="Retries per request after 5xx, timeouts, resets.")
    max_rate_limited_retries: int = Field(default=30, ge=0, description="Retries per request after 429s.")
    max_retry_after_s: float = Field(
        default=120.0,
        gt=0,
        description="Longest Retry-After honoured; a longer one fails the request at once.",
    )
    run_deadline_s: float = Field(
        default=21_600.0, gt=0, description="No retry wait ends later than this after a run's client opened."
    )
    listing_share: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="Share of rate_limit_rps the deletion sensor's page-id listings (deletion detection) may spend.",
    )
    writeback_lock_dir: str = Field(
        default=".state/locks",
        description="Where the write-back keeps one lock file per Source ID (one writer per item on this machine).",
    )
    database_ids: dict[str, str] = Field(default_factory=dict)
    lookup_by_title: bool = Field(
        default=False, description="Find databases without a configured id by their title (the sandbox)."
    )

    def client_config(self, **overrides: Any) -> NotionClientConfig:
        options: dict[str, Any] = {
            "token": SecretStr(self.token),
            "base_url": self.base_url,
            "api_version": self.api_version,
            "rate_limit_rps": self.rate_limit_rps,
            "rate_limit_burst": self.rate_limit_burst,
            "max_concurrency": self.max_concurrency,
            "max_retries": self.max_retries,
            "max_rate_limited_retries": self.max_rate_limited_retries,
            "max_retry_after_s": self.max_retry_after_s,
            "deadline_s": self.run_deadline_s,
        }
        return NotionClientConfig(**(options | overrides))

    def client(self, **overrides: Any) -> NotionClient:
        return NotionClient(self.client_config(**overrides))

    async def resolve_database_ids(
        self, client: NotionClient, mapping: NotionMapping, names: list[str]
    ) -> dict[str, str]:
        """Database id per mapping name: configured ids first, else (sandbox) a search by title."""
        resolved = {name: self.database_ids[name] for name in names if name in self.database_ids}
        missing = [name for name in names if name not in resolved]
        if missing and not self.lookup_by_title:
            variables = ", ".join(mapping.database(name).id_env for name in missing)
            raise NotionError(f"no Notion database id for {', '.join(missing)}: set {variables}")
        for name in missing:
            title = mapping.database(name).title
            found = await client.find_database_by_title(title)
            if found is None:
                raise NotionError(
                    f"no Notion database titled {title!r} is shared with the integration: share it, or set "
                    f"{mapping.database(name).id_env}"
                )
            resolved[name] = found
        return resolved
