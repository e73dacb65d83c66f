"""`build_resources`: the one place that turns settings into Dagster resources for an environment.

Asset code never branches on the environment: it asks for the resource keys below, and `PPM_ENV` picks the
implementation here, from `LAKEHOUSE_ENGINES` (one builder per engine; an engine's packages are imported by its
builder only, so definitions load fast whatever is installed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg

from ppm_resources.azure.credential import MANAGEMENT_URL
from ppm_resources.azure.resource import AzureResource
from ppm_resources.code_location import CodeLocation
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.notion.resource import NotionResource
from ppm_resources.notion.webhook_resource import NotionWebhookInbox
from ppm_resources.reporting_currency import ReportingCurrency
from ppm_resources.settings import (
    SANDBOX_AZURE_CLIENT_ID,
    SANDBOX_AZURE_CLIENT_SECRET,
    SANDBOX_AZURE_TENANT_ID,
    SANDBOX_DATABRICKS_TOKEN,
    SANDBOX_DATABRICKS_WAREHOUSE_ID,
    Settings,
    SettingsError,
    load_settings,
)


def notion_resource(settings: Settings) -> NotionResource:
    """Real Notion when NOTION_TOKEN is set (the token stays an env var reference), else the sandbox."""
    return NotionResource(
        base_url=settings.notion_base_url,
        token=(
            settings.notion_token.get_secret_value()
            if settings.notion_uses_sandbox
            else dg.EnvVar("NOTION_TOKEN")
        ),
        api_version=settings.notion.api_version,
        rate_limit_rps=settings.notion.rate_limit_rps,
        rate_limit_burst=settings.notion.rate_limit_burst,
        listing_share=settings.notion.listing_share,
        mass_delete_share=settings.notion.mass_delete_share,
        max_retries=settings.notion.max_retries,
        max_rate_limited_retries=settings.notion.max_rate_limited_retries,
        max_retry_after_s=settings.notion.max_retry_after_s,
        run_deadline_s=settings.notion.run_deadline_s,
        writeback_lock_dir=settings.notion.writeback_lock_dir,
        database_ids=settings.notion_database_ids,
        lookup_by_title=settings.notion_uses_sandbox,
    )


def azure_resource(settings: Settings) -> AzureResource:
    """A real tenant when a principal or an endpoint is configured (the secret stays an env var reference),
    else the sandbox's Azure emulator over HTTPS, trusting the certificate the sandbox wrote."""
    azure = settings.azure
    common = {
        "subscription_ids": azure.subscription_ids,
        "quota_requests": azure.graph_quota_requests,
        "quota_window_s": azure.graph_quota_window_s,
    }
    if settings.azure_uses_sandbox:
        url = settings.ppm.sandbox_azure_url
        return AzureResource(
            tenant_id=SANDBOX_AZURE_TENANT_ID,
            client_id=SANDBOX_AZURE_CLIENT_ID,
            client_secret=SANDBOX_AZURE_CLIENT_SECRET,
            authority_url=url,
            arm_url=url,
            credential_scope=f"{MANAGEMENT_URL}/.default",
            ca_bundle=azure.ca_bundle or settings.ppm.sandbox_ca_cert,
            **common,
        )
    return AzureResource(
        tenant_id=azure.tenant_id,
        client_id=azure.client_id,
        client_secret=dg.EnvVar("AZURE_CLIENT_SECRET") if azure.client_secret else None,
        authority_url=azure.authority_url,
        arm_url=azure.arm_url or MANAGEMENT_URL,
        ca_bundle=azure.ca_bundle,
        **common,
    )


def notion_webhook_inbox(settings: Settings) -> NotionWebhookInbox:
    """The store `ppm serve-webhooks` fills; the webhook sensor skips while it does not exist."""
    return NotionWebhookInbox(path=settings.notion.webhook_store)


def local_lakehouse(settings: Settings) -> Lakehouse:
    """Delta Lake files under PPM_LAKEHOUSE_DIR, queried in process with DuckDB."""
    from ppm_resources.lakehouse.local import LocalLakehouse

    return LocalLakehouse(
        root=settings.ppm.lakehouse_dir,
        duckdb_threads=settings.ppm.duckdb_threads,
        duckdb_memory_limit=settings.ppm.duckdb_memory_limit,
    )


def databricks_lakehouse(settings: Settings) -> Lakehouse:
    """Unity Catalog tables on a SQL warehouse (the token stays an env var reference), or, with no
    DATABRICKS_HOST, the sandbox's Databricks emulator."""
    from ppm_resources.lakehouse.databricks import DatabricksLakehouse

    databricks = settings.databricks
    common = {
        "host": settings.databricks_url,
        "catalog": databricks.catalog,
        "volume": databricks.volume,
    }
    if settings.databricks_uses_sandbox:
        return DatabricksLakehouse(
            token=SANDBOX_DATABRICKS_TOKEN, warehouse_id=SANDBOX_DATABRICKS_WAREHOUSE_ID, **common
        )
    if databricks.token is None or databricks.warehouse_id is None:
        raise SettingsError(
            "PPM_ENV=databricks with DATABRICKS_HOST needs DATABRICKS_TOKEN and DATABRICKS_WAREHOUSE_ID"
        )
    return DatabricksLakehouse(
        token=dg.EnvVar("DATABRICKS_TOKEN"), warehouse_id=databricks.warehouse_id, **common
    )


#: PPM_ENV value -> the lakehouse engine it selects.
LAKEHOUSE_ENGINES: dict[str, Callable[[Settings], Lakehouse]] = {
    "local": local_lakehouse,
    "databricks": databricks_lakehouse,
}


def build_resources(settings: Settings | None = None) -> dict[str, Any]:
    """Resources keyed the same way in every environment (`PPM_ENV` picks the implementations)."""
    settings = settings or load_settings()
    return {
        "lakehouse": LAKEHOUSE_ENGINES[settings.ppm.env](settings),
        "notion": notion_resource(settings),
        "azure": azure_resource(settings),
        "notion_webhook_inbox": notion_webhook_inbox(settings),
        "reporting": ReportingCurrency(currency=settings.ppm.reporting_currency),
        "code_location": CodeLocation(),
    }
