"""`bronze/azure_resources` and `bronze/azure_advisor`: one snapshot per ingestion, one partition per subscription.

Each subscription is its own partition (and, from the schedule or a backfill, its own run): a subscription the
principal cannot read fails alone, with a message naming it and the role to grant, and is not retried
automatically (a retry cannot grant a role); the other subscriptions are ingested. The Dagster pool `azure_api`
keeps two runs from sharing the Resource Graph quota at once.
"""

from collections.abc import Callable

import dagster as dg

from ppm_assets.azure.ingest import Snapshot, advisor_snapshot, inventory_snapshot
from ppm_assets.metadata import table_metadata
from ppm_assets.partitions import azure_subscriptions
from ppm_assets.tables import AZURE_ADVISOR_RAW, AZURE_RESOURCES_RAW, Table
from ppm_resources.azure import AzureAccessDeniedError, AzureAuthenticationError, AzureError
from ppm_resources.azure.client import AzureClient
from ppm_resources.azure.resource import AzureResource
from ppm_resources.lakehouse import Lakehouse

GROUP = "azure"
OWNERS = ["team:data-platform"]
KINDS = {"azure", "delta"}


def _ingest(
    context: dg.AssetExecutionContext,
    lakehouse: Lakehouse,
    azure: AzureResource,
    table: Table,
    read: Callable[[AzureClient, str, str, Callable[[str], None]], Snapshot],
    what: str,
) -> dg.MaterializeResult:
    subscription_id = context.partition_key
    try:
        with azure.client() as client:
            snapshot = read(client, subscription_id, context.run.run_id, context.log.info)
    except (AzureAccessDeniedError, AzureAuthenticationError) as error:
        # Waiting does not grant a role or fix a secret: fail this partition now, without run retries.
        raise dg.Failure(description=str(error), allow_retries=False) from None
    except AzureError as error:
        raise dg.Failure(description=str(error)) from None
    write = lakehouse.append(table.name, snapshot.table)
    context.log.info(
        f"subscription {subscription_id}: {snapshot.rows:,} {what} in {snapshot.requests} requests, "
        f"{snapshot.seconds:.1f} s ({snapshot.throttled} throttled, {snapshot.waited_s:.1f} s pacing)"
    )
    return dg.MaterializeResult(
        metadata={
            **table_metadata(lakehouse, table.name, write),
            what.replace(" ", "_"): dg.MetadataValue.int(snapshot.rows),
            "resource_groups": dg.MetadataValue.int(snapshot.resource_groups),
            "requests": dg.MetadataValue.int(snapshot.requests),
            "throttled_requests": dg.MetadataValue.int(snapshot.throttled),
            "pacing_wait_s": dg.MetadataValue.float(snapshot.waited_s),
            "duration_s": dg.MetadataValue.float(snapshot.seconds),
        }
    )


@dg.asset(
    key=AZURE_RESOURCES_RAW.key,
    partitions_def=azure_subscriptions,
    pool="azure_api",
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    description=(
        "Snapshots of one subscription's resource groups and resources from Azure Resource Graph (`$top` 1000, "
        "`$skipToken` paging, paced to the per-principal quota), one partition per subscription. Append-only: "
        "every ingestion adds a snapshot (`ingested_at`); silver keeps the latest."
    ),
)
def azure_resources_raw(
    context: dg.AssetExecutionContext, lakehouse: Lakehouse, azure: AzureResource
) -> dg.MaterializeResult:
    return _ingest(context, lakehouse, azure, AZURE_RESOURCES_RAW, inventory_snapshot, "resources")


@dg.asset(
    key=AZURE_ADVISOR_RAW.key,
    partitions_def=azure_subscriptions,
    pool="azure_api",
    group_name=GROUP,
    kinds=KINDS,
    owners=OWNERS,
    description=(
        "Snapshots of one subscription's Azure Advisor recommendations as Azure sent them (raw JSON pages, "
        "`extendedProperties` kept as a map), one partition per subscription. Append-only; silver keeps the "
        "latest snapshot."
    ),
)
def azure_advisor_raw(
    context: dg.AssetExecutionContext, lakehouse: Lakehouse, azure: AzureResource
) -> dg.MaterializeResult:
    return _ingest(context, lakehouse, azure, AZURE_ADVISOR_RAW, advisor_snapshot, "recommendations")
