"""Deterministic demo tenant: subscriptions, resource groups, resources and Advisor recommendations.

Pure functions of the config (and the number of Notion projects the tags point at). Resources are not
stored: `resource(plan, index)` rebuilds resource `index` from (seed, index) each time, so a 100,000-resource
benchmark costs no memory until queried. Resources come in blocks of 8 sharing a resource group and an
app: a VM, its OS disk and its NIC (consistent `managedBy` / `virtualMachine.id` links), then either a SQL
server with a database, an App Service plan with a site, or two more pool resources, then pool resources.

Linking to Notion projects (`ppm-project: PRJ-<n>`): every other resource group carries the tag; a resource
in a tagged group has its own tag half of the time (else it is linked through the group only), a resource
in an untagged group has one 60 % of the time (else it is not linked): about 55 % own tag, 25 % group only,
20 % unlinked. One resource in `defect_period` (and one recommendation in `defect_period`) is a planted
defect, classes in rotation (see `RESOURCE_DEFECTS`, `RECOMMENDATION_DEFECTS`).
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ppm_sandbox.azure.config import AzureConfig, subscription_id, subscription_name
from ppm_sandbox.azure.model import Defect, Recommendation, Resource, ResourceGroup, Subscription, resource_id
from ppm_sandbox.notion.prng import Rng, salt

PROJECT_TAG = "ppm-project"
#: A project id no Notion workspace has (defect `unknown_project`).
UNKNOWN_PROJECT = "PRJ-999"
RESOURCE_DEFECTS: tuple[str, ...] = ("unknown_project", "tag_name_case")
RECOMMENDATION_DEFECTS: tuple[str, ...] = (
    "unknown_currency",
    "negative_savings",
    "missing_savings",
    "orphan_resource",
    "resource_group_scope",
)
UNKNOWN_CURRENCY = "XYZ"

LOCATIONS: tuple[str, ...] = (
    "westeurope",
    "northeurope",
    "eastus",
    "eastus2",
    "uksouth",
    "francecentral",
    "germanywestcentral",
    "swedencentral",
)
APPS: tuple[str, ...] = (
    "finance",
    "portal",
    "billing",
    "datalake",
    "crm",
    "hr",
    "analytics",
    "api",
    "web",
    "ml",
    "reporting",
    "identity",
    "network",
    "monitoring",
    "backup",
    "iot",
    "search",
    "mobile",
    "etl",
    "docs",
    "payments",
    "ledger",
    "forecast",
    "planning",
)
ENVIRONMENTS: tuple[str, ...] = ("prod", "dev", "shared")
CURRENCIES: tuple[str, ...] = ("USD", "USD", "EUR")
OWNERS: tuple[str, ...] = (
    "alice.martin",
    "bruno.keller",
    "chloe.dupont",
    "david.oneill",
    "eva.schmidt",
    "farid.haddad",
)
NETWORK_WATCHER_RG = "NetworkWatcherRG"
BLOCK = 8
VM_SIZES: tuple[str, ...] = (
    "Standard_B2s",
    "Standard_D2s_v3",
    "Standard_D4s_v3",
    "Standard_E4s_v5",
    "Standard_F8s_v2",
)
_SMALLER = {
    "Standard_D4s_v3": "Standard_D2s_v3",
    "Standard_E4s_v5": "Standard_E2s_v5",
    "Standard_F8s_v2": "Standard_F4s_v2",
    "Standard_D2s_v3": "Standard_B2ms",
    "Standard_B2s": "Standard_B1ms",
}
# (ARM type, weight, name prefix) of the resources that fill a block after its fixed part.
POOL: tuple[tuple[str, float, str], ...] = (
    ("Microsoft.Storage/storageAccounts", 14, "st"),
    ("Microsoft.Network/publicIPAddresses", 10, "pip"),
    ("Microsoft.Network/networkSecurityGroups", 10, "nsg"),
    ("Microsoft.Network/virtualNetworks", 6, "vnet"),
    ("Microsoft.Compute/disks", 8, "disk"),
    ("Microsoft.KeyVault/vaults", 8, "kv"),
    ("Microsoft.Insights/components", 6, "appi"),
    ("Microsoft.OperationalInsights/workspaces", 4, "log"),
    ("Microsoft.Compute/snapshots", 5, "snap"),
    ("Microsoft.Cache/Redis", 3, "redis"),
    ("Microsoft.ContainerRegistry/registries", 3, "cr"),
    ("Microsoft.Network/loadBalancers", 4, "lb"),
    ("Microsoft.Network/privateEndpoints", 4, "pe"),
)
_POOL_WEIGHTS = tuple(w for _, w, _ in POOL)

_BLOCK_SALT = salt("azure.block")
_RESOURCE_SALT = salt("azure.resource")
_GROUP_SALT = salt("azure.group")
_REC_SALT = salt("azure.recommendation")
_ID_NAMESPACE = uuid.UUID("2c7f0a4e-55c1-4c3b-9a8e-1f6d2b7c9e30")


@dataclass(frozen=True)
class AzurePlan:
    """Everything needed to rebuild any generated object: the fixed parts, materialised."""

    seed: int
    tenant_id: str
    subscriptions: tuple[Subscription, ...]
    resource_groups: tuple[ResourceGroup, ...]
    #: Indices into `resource_groups` that host generated resources, with cumulative weights.
    hosts: tuple[int, ...]
    host_weights: tuple[float, ...]
    resource_count: int
    recommendation_count: int
    project_ids: tuple[str, ...]
    anchor: datetime
    defect_period: int
    #: Environment tag of each subscription (`prod`, `dev`, `shared`, then `lab`).
    environments: Mapping[str, str] = field(default_factory=dict)
    #: Recently built blocks: the 8 resources of a block share these draws (a cache, not state).
    blocks: dict[int, _Block] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class _Block:
    """What the resources of one block share: their group, app, VM and flavour."""

    group: ResourceGroup
    app: str
    flavour: str
    vm_size: str
    linux: bool
    zone: str | None
    disk_hex: str
    vm_uuid: str
    vm_name: str
    vm_id: str


def project_ids(count: int) -> tuple[str, ...]:
    """`PRJ-1` ... `PRJ-<count>`: the Notion demo projects' `Project ID`s (unique id, prefix PRJ)."""
    return tuple(f"PRJ-{n}" for n in range(1, count + 1))


def make_plan(config: AzureConfig, project_count: int) -> AzurePlan:
    config.validate()
    projects = project_ids(project_count)
    subscriptions = tuple(
        Subscription(
            subscription_id(i), subscription_name(i), currency=CURRENCIES[i] if i < len(CURRENCIES) else "USD"
        )
        for i in range(config.subscriptions)
    )
    # Named groups split 45/35/20 over the first subscriptions (then evenly); each subscription also has
    # the NetworkWatcherRG that Azure creates by itself (untagged, nearly empty).
    named = config.resource_groups - len(subscriptions)
    weights = [0.45, 0.35, 0.20][: len(subscriptions)] + [0.2] * max(0, len(subscriptions) - 3)
    shares = _largest_remainder(named, weights)
    groups: list[ResourceGroup] = []
    host_of_sub: list[list[int]] = []
    for ordinal, (sub, share) in enumerate(zip(subscriptions, shares, strict=True)):
        env = ENVIRONMENTS[ordinal] if ordinal < len(ENVIRONMENTS) else "lab"
        indices = []
        for k in range(share):
            r = Rng(config.seed, _GROUP_SALT, ordinal, k)
            app = APPS[k % len(APPS)] + ("" if k < len(APPS) else str(k // len(APPS) + 1))
            # Some groups were created with capitals: ids keep them, ARG's resourceGroup column does not.
            name = f"RG-{app.capitalize()}-{env.capitalize()}" if k % 4 == 3 else f"rg-{app}-{env}"
            location = r.weighted(LOCATIONS, (5, 3, 2, 1, 1, 1, 1, 1))
            tags: dict[str, str] | None
            if k % 2 == 0 and projects:
                tags = {PROJECT_TAG: r.choice(projects), "env": env, "owner": r.choice(OWNERS)}
            elif k % 3 == 1:
                tags = None
            else:
                tags = {"env": env}
            indices.append(len(groups))
            groups.append(ResourceGroup(sub.subscription_id, name, location, tags))
        indices.append(len(groups))
        groups.append(ResourceGroup(sub.subscription_id, NETWORK_WATCHER_RG, "westeurope", None))
        host_of_sub.append(indices)
    hosts = tuple(host_of_sub[0] if config.bench_resources else [i for ix in host_of_sub for i in ix])
    cumulative: list[float] = []
    total = 0.0
    for i in hosts:
        total += 0.05 if groups[i].name == NETWORK_WATCHER_RG else 1.0
        cumulative.append(total)
    return AzurePlan(
        seed=config.seed,
        tenant_id=config.tenant_id,
        subscriptions=subscriptions,
        resource_groups=tuple(groups),
        hosts=hosts,
        host_weights=tuple(cumulative),
        resource_count=config.resource_count,
        recommendation_count=config.recommendations,
        project_ids=projects,
        anchor=config.anchor,
        defect_period=config.defect_period,
        environments={
            sub.subscription_id: ENVIRONMENTS[i] if i < len(ENVIRONMENTS) else "lab"
            for i, sub in enumerate(subscriptions)
        },
    )


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """`total` split by `weights`, at least one each when possible, summing exactly to `total`."""
    scale = sum(weights)
    raw = [total * w / scale for w in weights]
    counts = [max(1, int(x)) if total >= len(weights) else int(x) for x in raw]
    order = sorted(range(len(weights)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    i = 0
    while sum(counts) < total:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts) > total:
        j = max(range(len(counts)), key=lambda k: counts[k])
        counts[j] -= 1
    return counts


def _app_of(group: ResourceGroup) -> str:
    if group.name == NETWORK_WATCHER_RG:
        return "netwatch"
    return group.name.split("-")[1].lower()


def _env_of(plan: AzurePlan, group: ResourceGroup) -> str:
    return plan.environments.get(group.subscription_id, "lab")


def _block(plan: AzurePlan, block: int) -> _Block:
    cached = plan.blocks.get(block)
    if cached is not None:
        return cached
    b = Rng(plan.seed, _BLOCK_SALT, block)
    group = plan.resource_groups[
        plan.hosts[bisect.bisect_right(plan.host_weights, b.random() * plan.host_weights[-1])]
    ]
    flavour = b.weighted(("data", "web", "plain"), (1, 1, 2))
    vm_size = b.choice(VM_SIZES)
    linux = b.chance(0.7)
    zone = b.choice(("1", "2", "3")) if b.chance(0.4) else None
    disk_hex = _hex(b, 32)
    app = _app_of(group)
    vm_name = f"vm-{app}-{block:05d}"
    vm_id = resource_id(group.subscription_id, group.name, "Microsoft.Compute/virtualMachines", vm_name)
    built = _Block(group, app, flavour, vm_size, linux, zone, disk_hex, _guid(b), vm_name, vm_id)
    if len(plan.blocks) > 256:
        plan.blocks.clear()
    plan.blocks[block] = built
    return built


def resource_defect(plan: AzurePlan, index: int) -> str | None:
    """The planted defect of generated resource `index`, if any."""
    period = plan.defect_period
    if index % period != period // 2:
        return None
    return RESOURCE_DEFECTS[(index // period) % len(RESOURCE_DEFECTS)]


def _hex(r: Rng, digits: int) -> str:
    return f"{r.next():016x}{r.next():016x}"[:digits]


def _guid(r: Rng) -> str:
    return str(uuid.UUID(int=(r.next() << 64) | r.next(), version=4))


def resource(plan: AzurePlan, index: int) -> Resource:
    """Generated resource `index` (0 <= index < plan.resource_count)."""
    block, position = divmod(index, BLOCK)
    shared = _block(plan, block)
    group, app, flavour, linux, zone = shared.group, shared.app, shared.flavour, shared.linux, shared.zone
    vm_name, vm_id, disk_hex = shared.vm_name, shared.vm_id, shared.disk_hex
    r = Rng(plan.seed, _RESOURCE_SALT, index)
    sub, rg, loc = group.subscription_id, group.name, group.location
    tags = _tags(plan, group, index, r)
    common: dict[str, Any] = {"subscription_id": sub, "resource_group": rg, "location": loc, "tags": tags}

    if position == 0:
        return Resource(
            resource_type="Microsoft.Compute/virtualMachines",
            name=vm_name,
            properties={
                "vmId": shared.vm_uuid,
                "hardwareProfile": {"vmSize": shared.vm_size},
                "storageProfile": {
                    "osDisk": {
                        "osType": "Linux" if linux else "Windows",
                        "name": f"{vm_name}_OsDisk_1_{disk_hex}",
                    }
                },
                "provisioningState": "Succeeded",
                "extended": {
                    "instanceView": {
                        "powerState": {
                            "code": r.weighted(("PowerState/running", "PowerState/deallocated"), (0.85, 0.15))
                        }
                    }
                },
            },
            identity={"type": "SystemAssigned", "principalId": _guid(r), "tenantId": plan.tenant_id}
            if r.chance(0.3)
            else None,
            zones=(zone,) if zone else None,
            **common,
        )
    if position == 1:
        size = r.choice((32, 64, 128, 256))
        return Resource(
            resource_type="Microsoft.Compute/disks",
            name=f"{vm_name}_OsDisk_1_{disk_hex}",
            sku={"name": "Premium_LRS", "tier": "Premium"},
            properties={
                "diskSizeGB": size,
                "diskState": "Attached",
                "osType": "Linux" if linux else "Windows",
                "provisioningState": "Succeeded",
            },
            managed_by=vm_id,
            zones=(zone,) if zone else None,
            **common,
        )
    if position == 2:
        return Resource(
            resource_type="Microsoft.Network/networkInterfaces",
            name=f"nic-{app}-{block:05d}",
            properties={
                "provisioningState": "Succeeded",
                "virtualMachine": {"id": vm_id},
                "enableAcceleratedNetworking": r.chance(0.5),
                "macAddress": "-".join(_hex(r, 12)[i : i + 2].upper() for i in range(0, 12, 2)),
            },
            **common,
        )
    if position in (3, 4) and flavour == "data":
        server = f"sql-{app}-{block:05d}"
        if position == 3:
            return Resource(
                resource_type="Microsoft.Sql/servers",
                name=server,
                kind="v12.0",
                properties={
                    "version": "12.0",
                    "state": "Ready",
                    "fullyQualifiedDomainName": f"{server}.database.windows.net",
                },
                **common,
            )
        capacity = r.choice((2, 4, 8))
        return Resource(
            resource_type="Microsoft.Sql/servers/databases",
            name=f"sqldb-{app}-{index:06d}",
            parent=server,
            kind="v12.0,user,vcore",
            sku={"name": "GP_Gen5", "tier": "GeneralPurpose", "family": "Gen5", "capacity": capacity},
            properties={"status": "Online", "maxSizeBytes": 34359738368, "zoneRedundant": r.chance(0.2)},
            **common,
        )
    if position in (3, 4) and flavour == "web":
        farm = f"plan-{app}-{block:05d}"
        if position == 3:
            return Resource(
                resource_type="Microsoft.Web/serverFarms",
                name=farm,
                kind="linux" if linux else "app",
                sku={
                    "name": "P1v3",
                    "tier": "PremiumV3",
                    "size": "P1v3",
                    "family": "Pv3",
                    "capacity": r.choice((1, 2, 3)),
                },
                properties={"status": "Ready", "numberOfSites": 1},
                **common,
            )
        site = f"app-{app}-{index:06d}"
        return Resource(
            resource_type="Microsoft.Web/sites",
            name=site,
            kind="app,linux" if linux else "app",
            properties={
                "state": "Running",
                "defaultHostName": f"{site}.azurewebsites.net",
                "serverFarmId": resource_id(sub, rg, "Microsoft.Web/serverFarms", farm),
                "httpsOnly": r.chance(0.8),
            },
            identity={"type": "SystemAssigned", "principalId": _guid(r), "tenantId": plan.tenant_id}
            if r.chance(0.5)
            else None,
            **common,
        )
    return _pool_resource(plan, r, index, app, common)


def _pool_resource(plan: AzurePlan, r: Rng, index: int, app: str, common: dict[str, Any]) -> Resource:
    rtype, _, prefix = r.weighted(POOL, _POOL_WEIGHTS)
    name = f"{prefix}-{app}-{index:06d}"
    sku: dict[str, Any] | None = None
    kind = ""
    props: dict[str, Any] = {"provisioningState": "Succeeded"}
    if rtype == "Microsoft.Storage/storageAccounts":
        name = f"st{app[:10]}{index:06d}"  # 3-24 lower-case letters and digits
        replication = r.weighted(
            ("Standard_LRS", "Standard_GRS", "Standard_ZRS", "Premium_LRS"), (5, 2, 2, 1)
        )
        sku = {"name": replication, "tier": replication.split("_")[0]}
        kind = "StorageV2"
        props |= {
            "accessTier": r.choice(("Hot", "Cool")),
            "supportsHttpsTrafficOnly": True,
            "minimumTlsVersion": "TLS1_2",
        }
    elif rtype == "Microsoft.Network/publicIPAddresses":
        sku = {"name": "Standard", "tier": "Regional"}
        attached = r.chance(0.6)
        props |= {
            "publicIPAllocationMethod": "Static",
            "ipAddress": f"20.{r.below(256)}.{r.below(256)}.{r.between(1, 254)}",
        }
        if attached:
            props["ipConfiguration"] = {
                "id": f"/subscriptions/{common['subscription_id']}/resourceGroups/{common['resource_group']}/providers/Microsoft.Network/loadBalancers/lb-{app}/frontendIPConfigurations/fe"
            }
    elif rtype == "Microsoft.Compute/disks":
        sku = {"name": r.choice(("Premium_LRS", "StandardSSD_LRS", "Standard_LRS")), "tier": "Premium"}
        sku["tier"] = "Premium" if sku["name"].startswith("Premium") else "Standard"
        props |= {"diskSizeGB": r.choice((64, 128, 256, 512, 1024)), "diskState": "Unattached"}
    elif rtype == "Microsoft.KeyVault/vaults":
        name = f"kv-{app[:8]}-{index:06d}"  # 3-24 characters
        props |= {
            "sku": {"family": "A", "name": r.choice(("standard", "premium"))},
            "tenantId": plan.tenant_id,
            "enableSoftDelete": True,
            "enableRbacAuthorization": r.chance(0.6),
        }
    elif rtype == "Microsoft.Insights/components":
        kind = "web"
        props |= {"Application_Type": "web", "RetentionInDays": 90}
    elif rtype == "Microsoft.OperationalInsights/workspaces":
        props |= {"sku": {"name": "PerGB2018"}, "retentionInDays": r.choice((30, 90))}
    elif rtype == "Microsoft.Compute/snapshots":
        sku = {"name": "Standard_LRS", "tier": "Standard"}
        props |= {"diskSizeGB": r.choice((64, 128)), "incremental": True}
    elif rtype == "Microsoft.Cache/Redis":
        props |= {
            "sku": {"name": "Standard", "family": "C", "capacity": r.choice((1, 2))},
            "redisVersion": "6.0",
        }
    elif rtype == "Microsoft.ContainerRegistry/registries":
        name = f"cr{app[:10]}{index:06d}"  # alphanumerics only
        sku = {"name": r.choice(("Basic", "Standard", "Premium")), "tier": "Basic"}
        sku["tier"] = sku["name"]
        props |= {"adminUserEnabled": False, "loginServer": f"{name}.azurecr.io"}
    elif rtype == "Microsoft.Network/loadBalancers":
        sku = {"name": "Standard", "tier": "Regional"}
    return Resource(resource_type=rtype, name=name, sku=sku, kind=kind, properties=props, **common)


def _tags(plan: AzurePlan, group: ResourceGroup, index: int, r: Rng) -> dict[str, str] | None:
    env = _env_of(plan, group)
    projects = plan.project_ids
    group_project = (group.tags or {}).get(PROJECT_TAG)
    defect = resource_defect(plan, index)
    if defect == "unknown_project":
        return {PROJECT_TAG: UNKNOWN_PROJECT, "env": env}
    if defect == "tag_name_case":
        # Azure tag names are case-insensitive, but ARG's tags bag is not: tags['ppm-project'] misses it.
        return {"PPM-Project": group_project or (r.choice(projects) if projects else "PRJ-1"), "env": env}
    own = r.chance(0.5) if group_project else r.chance(0.6)
    if own and projects:
        project = group_project if group_project and r.chance(0.8) else r.choice(projects)
        tags = {PROJECT_TAG: project, "env": env}
        if r.chance(0.4):
            tags["owner"] = r.choice(OWNERS)
        return tags
    shape = r.below(4)
    if shape == 0:
        return None  # ARM never stored a tags object for it
    if shape == 1:
        return {}
    return {"env": env, "cost-center": f"CC-{100 + r.below(40)}"}


def resource_link(plan: AzurePlan, res: Resource) -> str:
    """How a resource joins a project: `own` (its own ppm-project tag, exact name), `group` (only its
    resource group's), `none`; defects count as `own` when the tag name is exact."""
    if res.tags and PROJECT_TAG in res.tags:
        return "own"
    group = next(
        (
            g
            for g in plan.resource_groups
            if g.subscription_id == res.subscription_id and g.name == res.resource_group
        ),
        None,
    )
    if group is not None and group.tags and PROJECT_TAG in group.tags:
        return "group"
    return "none"


# Advisor ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecommendationType:
    key: str
    category: str
    #: ARM type it applies to, or "subscription" / "resourceGroup".
    target: str
    problem: str
    solution: str
    impacts: tuple[str, ...]
    risk: str | None = None

    @property
    def type_id(self) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, self.key))


CATALOG: tuple[RecommendationType, ...] = (
    RecommendationType(
        "vm-rightsize",
        "Cost",
        "Microsoft.Compute/virtualMachines",
        "Right-size or shutdown underutilized virtual machines",
        "Right-size or shutdown underutilized virtual machines",
        ("High", "Medium"),
    ),
    RecommendationType(
        "vm-reserved",
        "Cost",
        "subscription",
        "Consider virtual machine reserved instance to save over your on-demand costs",
        "Buy virtual machine reserved instances to save money over pay-as-you-go costs",
        ("High", "Medium"),
    ),
    RecommendationType(
        "disk-unattached",
        "Cost",
        "Microsoft.Compute/disks",
        "You have disks that have not been attached to a VM for more than 30 days",
        "Review unattached disks and delete the ones you no longer need",
        ("Medium", "Low"),
    ),
    RecommendationType(
        "pip-unused",
        "Cost",
        "Microsoft.Network/publicIPAddresses",
        "You have public IP addresses that are not associated with any resource",
        "Delete unassociated public IP addresses to save money",
        ("Low",),
    ),
    RecommendationType(
        "sql-rightsize",
        "Cost",
        "Microsoft.Sql/servers/databases",
        "Your SQL database is underutilized",
        "Right-size underutilized SQL databases",
        ("Medium",),
    ),
    RecommendationType(
        "plan-rightsize",
        "Cost",
        "Microsoft.Web/serverFarms",
        "Your App Service plan is underutilized",
        "Right-size underutilized App Service plans",
        ("Medium", "Low"),
    ),
    RecommendationType(
        "storage-lifecycle",
        "Cost",
        "Microsoft.Storage/storageAccounts",
        "Blob data is rarely accessed but kept in the Hot tier",
        "Use lifecycle management to move cool data to cheaper tiers",
        ("Low",),
    ),
    RecommendationType(
        "rg-idle",
        "Cost",
        "resourceGroup",
        "This resource group only contains idle resources",
        "Delete the idle resources of this resource group",
        ("Medium",),
    ),
    RecommendationType(
        "storage-network",
        "Security",
        "Microsoft.Storage/storageAccounts",
        "Storage accounts should restrict network access",
        "Storage accounts should restrict network access",
        ("Medium",),
    ),
    RecommendationType(
        "vm-vulnerabilities",
        "Security",
        "Microsoft.Compute/virtualMachines",
        "Machines should have vulnerability findings resolved",
        "Machines should have vulnerability findings resolved",
        ("High",),
    ),
    RecommendationType(
        "kv-expiry",
        "Security",
        "Microsoft.KeyVault/vaults",
        "Key Vault secrets should have an expiration date",
        "Key Vault secrets should have an expiration date",
        ("Medium",),
    ),
    RecommendationType(
        "sub-contact",
        "Security",
        "subscription",
        "Subscriptions should have a contact email address for security issues",
        "Subscriptions should have a contact email address for security issues",
        ("Low",),
    ),
    RecommendationType(
        "vm-zones",
        "HighAvailability",
        "Microsoft.Compute/virtualMachines",
        "Use Availability zones for better resiliency and availability",
        "Use Availability zones for better resiliency and availability",
        ("High", "Medium"),
        risk="Warning",
    ),
    RecommendationType(
        "vm-backup",
        "HighAvailability",
        "Microsoft.Compute/virtualMachines",
        "Enable Backups on your virtual machines",
        "Enable Backups on your virtual machines",
        ("Medium",),
        risk="Warning",
    ),
    RecommendationType(
        "storage-grs",
        "HighAvailability",
        "Microsoft.Storage/storageAccounts",
        "Use geo-redundant storage to protect your data from regional outages",
        "Enable geo-redundant storage",
        ("Low",),
        risk="None",
    ),
    RecommendationType(
        "sql-zones",
        "HighAvailability",
        "Microsoft.Sql/servers/databases",
        "Enable zone redundancy for your SQL database",
        "Enable zone redundancy for your SQL database",
        ("Medium",),
        risk="Warning",
    ),
    RecommendationType(
        "vm-premium-disk",
        "Performance",
        "Microsoft.Compute/virtualMachines",
        "Improve disk performance by using Premium SSD",
        "Use Premium SSD managed disks for production workloads",
        ("Medium",),
    ),
    RecommendationType(
        "site-premium",
        "Performance",
        "Microsoft.Web/sites",
        "Your app would benefit from more compute",
        "Move your App Service to a PremiumV3 plan for better performance",
        ("Medium", "Low"),
    ),
    RecommendationType(
        "redis-bandwidth",
        "Performance",
        "Microsoft.Cache/Redis",
        "Your cache is running close to its network bandwidth limit",
        "Improve your Cache and application performance when running with high network bandwidth",
        ("Medium",),
    ),
    RecommendationType(
        "sub-health-alert",
        "OperationalExcellence",
        "subscription",
        "No Service Health alert is configured",
        "Create an Azure Service Health alert",
        ("Low",),
    ),
    RecommendationType(
        "site-staging",
        "OperationalExcellence",
        "Microsoft.Web/sites",
        "Deployments go straight to production",
        "Set up staging environments in Azure App Service",
        ("Low",),
    ),
    RecommendationType(
        "kv-diagnostics",
        "OperationalExcellence",
        "Microsoft.KeyVault/vaults",
        "Diagnostic logs are not enabled",
        "Enable diagnostic logging for your key vault",
        ("Low",),
    ),
)
CATEGORIES: tuple[str, ...] = ("Cost", "Security", "HighAvailability", "Performance", "OperationalExcellence")
CATEGORY_WEIGHTS: tuple[float, ...] = (0.40, 0.20, 0.15, 0.12, 0.13)
_IMPACTED_FIELDS = {
    "subscription": "Microsoft.Subscriptions/subscriptions",
    "resourceGroup": "Microsoft.Resources/resourceGroups",
}


def recommendation_defect(plan: AzurePlan, index: int) -> str | None:
    period = plan.defect_period
    if index % period != period // 2:
        return None
    return RECOMMENDATION_DEFECTS[(index // period) % len(RECOMMENDATION_DEFECTS)]


def money(value: Decimal) -> str:
    """Advisor's amount strings: plain decimals without trailing zeros ("1481.4", "12", "-42.5")."""
    return format(value.normalize(), "f")


def _monthly_savings(r: Rng) -> Decimal:
    style = r.below(5)
    if style == 0:
        return Decimal(r.between(5, 400))  # whole amounts: "12"
    if style == 1:
        return Decimal(r.between(50, 9000)) / 10  # one decimal: "123.4"
    return Decimal(r.between(500, 90000)) / 100  # cents: "123.45" (or "123.4" once normalised)


def generate_recommendations(plan: AzurePlan) -> tuple[list[Recommendation], list[Defect]]:
    """The generated recommendations (in list order) and their planted defects."""
    recommendations: list[Recommendation] = []
    defects: list[Defect] = []
    by_category: dict[str, list[RecommendationType]] = {
        c: [t for t in CATALOG if t.category == c] for c in CATEGORIES
    }
    for k in range(plan.recommendation_count):
        r = Rng(plan.seed, _REC_SALT, k)
        defect = recommendation_defect(plan, k)
        category = "Cost" if defect else r.weighted(CATEGORIES, CATEGORY_WEIGHTS)
        rec_type, target = _pick_target(plan, r, by_category[category], defect)
        rec = _recommendation(plan, r, k, rec_type, target, defect)
        recommendations.append(rec)
        if defect:
            defects.append(Defect(defect, rec.id, _defect_detail(defect, rec)))
    return recommendations, defects


def _pick_target(
    plan: AzurePlan, r: Rng, types: list[RecommendationType], defect: str | None
) -> tuple[RecommendationType, Resource | ResourceGroup | Subscription]:
    by_key = {t.key: t for t in CATALOG}
    if defect == "resource_group_scope":
        group = plan.resource_groups[r.choice(plan.hosts)]
        return by_key["rg-idle"], group
    if defect == "orphan_resource":
        group = plan.resource_groups[r.choice(plan.hosts)]
        gone = Resource(
            group.subscription_id,
            group.name,
            "Microsoft.Compute/virtualMachines",
            f"vm-retired-{r.below(10000):04d}",
            group.location,
        )
        return by_key["vm-rightsize"], gone
    scoped = [t for t in types if t.target == "subscription"]
    if plan.resource_count:
        for _ in range(64):
            candidate = resource(plan, r.below(plan.resource_count))
            fitting = [t for t in types if t.target == candidate.resource_type]
            if defect in ("unknown_currency", "negative_savings", "missing_savings"):
                fitting = [t for t in fitting if t.category == "Cost"]
            if fitting and not (scoped and r.chance(0.08)):
                return r.choice(fitting), candidate
    if not scoped:
        scoped = [by_key["vm-reserved"]]
    return r.choice(scoped), plan.subscriptions[r.below(len(plan.subscriptions))]


def _recommendation(
    plan: AzurePlan,
    r: Rng,
    k: int,
    rec_type: RecommendationType,
    target: Resource | ResourceGroup | Subscription,
    defect: str | None,
) -> Recommendation:
    subscription = next(s for s in plan.subscriptions if s.subscription_id == target.subscription_id)
    if isinstance(target, Subscription):
        impacted_field, impacted_value = _IMPACTED_FIELDS["subscription"], target.subscription_id
    elif isinstance(target, ResourceGroup):
        impacted_field, impacted_value = _IMPACTED_FIELDS["resourceGroup"], target.name
    else:
        impacted_field, impacted_value = target.resource_type, target.name
    guid = _guid(r)
    extended: dict[str, str] | None = None
    source = None
    if rec_type.category == "Cost":
        extended = _cost_extended(rec_type, target, r, subscription.currency, defect)
    elif rec_type.category == "Security":
        source = f"{target.id}/providers/Microsoft.Security/assessments/{_guid(r)}"
        extended = {"assessmentKey": _guid(r), "score": str(r.between(1, 10))}
    elif r.chance(0.5):
        extended = {"recommendationControl": rec_type.category, "maturityLevel": r.choice(("Preview", "GA"))}
    updated = plan.anchor + timedelta(seconds=r.uniform(0, 14 * 86400), microseconds=r.below(1_000_000))
    return Recommendation(
        guid=guid,
        subscription_id=target.subscription_id,
        resource_id=target.id,
        impacted_field=impacted_field,
        impacted_value=impacted_value,
        category=rec_type.category,
        impact=r.choice(rec_type.impacts),
        type_id=rec_type.type_id,
        problem=rec_type.problem,
        solution=rec_type.solution,
        last_updated=updated,
        extended=extended,
        source=source,
        risk=rec_type.risk,
    )


def _cost_extended(
    rec_type: RecommendationType,
    target: Resource | ResourceGroup | Subscription,
    r: Rng,
    currency: str,
    defect: str | None,
) -> dict[str, str]:
    monthly = _monthly_savings(r)
    ext: dict[str, str] = {}
    if rec_type.key == "vm-rightsize" and isinstance(target, Resource):
        current = target.properties.get("hardwareProfile", {}).get("vmSize", "Standard_D4s_v3")
        ext = {
            "currentSku": current,
            "targetSku": _SMALLER.get(current, "Standard_B2s"),
            "MaxCpuP95": f"{r.uniform(0.5, 9.5):.2f}",
            "MaxMemoryP95": f"{r.uniform(5, 40):.2f}",
            "MaxTotalNetworkP95": f"{r.uniform(0.1, 3):.2f}",
            "regionId": target.location,
            "subscriptionId": target.subscription_id,
        }
    elif rec_type.key == "vm-reserved":
        size = r.choice(VM_SIZES)
        ext = {
            "vmSize": size,
            "displaySKU": size,
            "term": r.choice(("P1Y", "P3Y")),
            "lookbackPeriod": r.choice(("7", "30", "60")),
            "region": r.choice(LOCATIONS[:4]),
            "scope": "Single",
            "qty": str(r.between(1, 6)),
            "reservedResourceType": "VirtualMachines",
        }
    elif isinstance(target, Resource) and target.sku:
        ext = {"sku": str(target.sku.get("name", "")), "region": target.location}
    ext["savingsAmount"] = money(-monthly if defect == "negative_savings" else monthly)
    annual = (-monthly if defect == "negative_savings" else monthly) * 12
    ext["annualSavingsAmount"] = money(annual)
    ext["savingsCurrency"] = UNKNOWN_CURRENCY if defect == "unknown_currency" else currency
    if defect == "missing_savings":
        del ext["savingsAmount"]
    return ext


def _defect_detail(defect: str, rec: Recommendation) -> str:
    ext = rec.extended or {}
    if defect == "unknown_currency":
        return f"savingsCurrency={ext.get('savingsCurrency')}"
    if defect == "negative_savings":
        return f"savingsAmount={ext.get('savingsAmount')}"
    if defect == "missing_savings":
        return "extendedProperties has no savingsAmount"
    if defect == "orphan_resource":
        return f"resourceId {rec.resource_id} is not in the inventory"
    return f"resourceId {rec.resource_id} is a resource group"


def resource_defects(plan: AzurePlan) -> list[Defect]:
    """The planted resource defects (tag values / names), from the generator alone."""
    found = []
    for index in range(plan.defect_period // 2, plan.resource_count, plan.defect_period):
        kind = resource_defect(plan, index)
        if kind is None:
            continue
        res = resource(plan, index)
        tags = res.tags or {}
        detail = (
            f"{PROJECT_TAG}={tags.get(PROJECT_TAG)}"
            if kind == "unknown_project"
            else f"tag name PPM-Project={tags.get('PPM-Project')}"
        )
        found.append(Defect(kind, res.id, detail))
    return found
