"""`azure_subscription_discovery`: the subscriptions partitioning the Azure bronze assets, kept current.

The partitions are AZURE_SUBSCRIPTION_IDS when it is set (a subscription listed there but unreadable stays, so
its partition fails loudly), else every subscription Resource Graph shows the principal. New subscriptions are
added and ingested at once. A subscription no longer listed is removed (and silver rebuilt without it) at once
when the list is AZURE_SUBSCRIPTION_IDS, and only after REMOVAL_GRACE when it is Resource Graph's: a lost Reader
role also hides a subscription, and for a day its daily run fails naming the subscription and the role instead of
its data silently leaving silver. A discovery that finds nothing while partitions exist removes nothing.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dagster as dg

from ppm_assets.partitions import azure_subscriptions
from ppm_resources.azure import AzureError
from ppm_resources.azure.resource import AzureResource
from ppm_resources.resilience import CircuitOpenError, RetriesExhaustedError
from ppm_sensors.azure.jobs import SENSOR_CLIENT, azure_ingest_job, azure_transform_job

#: How long a subscription Resource Graph no longer lists stays a partition (its runs fail meanwhile, naming it).
REMOVAL_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class PartitionChanges:
    add: tuple[str, ...]
    remove: tuple[str, ...]
    refused: str | None = None  # why nothing is removed despite `found` lacking current partitions
    missing_since: dict[str, str] = field(default_factory=dict)  # not listed, not yet removed: since when


def plan_partitions(
    current: set[str],
    found: set[str],
    *,
    missing_since: dict[str, str] | None = None,
    now: datetime | None = None,
    grace: timedelta = timedelta(0),
) -> PartitionChanges:
    """What to add and remove so the partitions are `found` (pure); a partition missing from `found` is removed
    once it has been missing for `grace` (`missing_since`: partition -> ISO time it was first missed)."""
    if not found and current:
        return PartitionChanges(
            (),
            (),
            refused=f"no subscription visible, {len(current)} partitions kept: check the principal's Reader "
            "role assignments (a revoked role hides every subscription)",
            missing_since=dict(missing_since or {}),
        )
    now = now or datetime.now(UTC)
    remove, still_missing = [], {}
    for key in sorted(current - found):
        since = datetime.fromisoformat((missing_since or {}).get(key, now.isoformat()))
        if now - since >= grace:
            remove.append(key)
        else:
            still_missing[key] = since.isoformat()
    return PartitionChanges(tuple(sorted(found - current)), tuple(remove), missing_since=still_missing)


def _missing_since(cursor: str | None) -> dict[str, str]:
    try:
        value = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        return {}
    missing = value.get("missing_since") if isinstance(value, dict) else None
    return {str(k): str(v) for k, v in missing.items()} if isinstance(missing, dict) else {}


def discover(azure: AzureResource, **client_overrides: object) -> tuple[set[str], str]:
    """The subscriptions that should be partitions, and where that list came from."""
    if azure.subscription_ids:
        return {s.lower() for s in azure.subscription_ids}, "AZURE_SUBSCRIPTION_IDS"
    with azure.client(**client_overrides) as client:
        return {s.subscription_id for s in client.subscriptions()}, "Resource Graph"


def apply_changes(instance: dg.DagsterInstance, changes: PartitionChanges) -> None:
    """Add and remove partitions directly (the `ppm` command; the sensor returns requests instead)."""
    if changes.add:
        instance.add_dynamic_partitions(azure_subscriptions.name, list(changes.add))
    for key in changes.remove:
        instance.delete_dynamic_partition(azure_subscriptions.name, key)


@dg.sensor(
    name="azure_subscription_discovery",
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[azure_ingest_job, azure_transform_job],
    description="Keeps the Azure subscription partitions current (AZURE_SUBSCRIPTION_IDS, else what Resource "
    "Graph lists): ingests new subscriptions at once, removes vanished ones and rebuilds silver without them.",
)
def azure_subscription_discovery(
    context: dg.SensorEvaluationContext, azure: AzureResource
) -> dg.SensorResult | dg.SkipReason:
    current = set(context.instance.get_dynamic_partitions(azure_subscriptions.name))
    try:
        found, source = discover(azure, **SENSOR_CLIENT)
    except (AzureError, RetriesExhaustedError, CircuitOpenError) as error:
        return dg.SkipReason(f"subscription discovery failed, partitions unchanged: {error}")
    changes = plan_partitions(
        current,
        found,
        missing_since=_missing_since(context.cursor),
        grace=timedelta(0) if azure.subscription_ids else REMOVAL_GRACE,
    )
    context.update_cursor(json.dumps({"missing_since": changes.missing_since}))
    if changes.refused:
        context.log.warning(changes.refused)
        return dg.SkipReason(changes.refused)
    for key, since in changes.missing_since.items():
        context.log.warning(
            f"Azure subscription {key} is no longer listed by Resource Graph (since {since}): deleted, moved, or the "
            f"principal lost its Reader role; its partition is removed {REMOVAL_GRACE} after that if it stays away"
        )
    if not changes.add and not changes.remove:
        waiting = (
            f"; {len(changes.missing_since)} no longer listed, kept for now" if changes.missing_since else ""
        )
        return dg.SkipReason(f"{len(current)} subscriptions ({source}), none added or removed{waiting}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    requests: list[dg.RunRequest] = [
        dg.RunRequest(run_key=f"discovered:{s}:{stamp}", job_name=azure_ingest_job.name, partition_key=s)
        for s in changes.add
    ]
    if changes.remove:
        requests.append(dg.RunRequest(run_key=f"removed:{stamp}", job_name=azure_transform_job.name))
    context.log.info(
        f"Azure subscriptions ({source}): added {', '.join(changes.add) or 'none'}; "
        f"removed {', '.join(changes.remove) or 'none'}"
    )
    partition_requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if changes.add:
        partition_requests.append(azure_subscriptions.build_add_request(list(changes.add)))
    if changes.remove:
        partition_requests.append(azure_subscriptions.build_delete_request(list(changes.remove)))
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partition_requests)
