"""What the emulated tenant holds, and how each thing looks on the wire.

Resource Graph rows have the `Resources` / `ResourceContainers` columns, in ARG's normalisation: `type`,
`location`, `resourceGroup` and `subscriptionId` are lower case, while `id` and `name` keep the case the
resource was created with. Advisor recommendations have the 2020-01-01 shape, with `extendedProperties`
values as strings (as the real API sends them, amounts included).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

RESOURCE_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "type",
    "tenantId",
    "kind",
    "location",
    "resourceGroup",
    "subscriptionId",
    "managedBy",
    "sku",
    "plan",
    "properties",
    "tags",
    "identity",
    "zones",
    "extendedLocation",
)
_DYNAMIC = frozenset({"sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation"})
#: Column types ARG reports in `resultFormat: table` (dynamic columns are "object").
COLUMN_TYPES: dict[str, str] = {name: "object" if name in _DYNAMIC else "string" for name in RESOURCE_COLUMNS}

SUBSCRIPTION_TYPE = "microsoft.resources/subscriptions"
RESOURCE_GROUP_TYPE = "microsoft.resources/subscriptions/resourcegroups"


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: str
    display_name: str
    state: str = "Enabled"
    #: Billing currency: what Advisor writes in `savingsCurrency` for this subscription.
    currency: str = "USD"

    @property
    def id(self) -> str:
        return f"/subscriptions/{self.subscription_id}"

    def to_row(self, tenant_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.display_name,
            "type": SUBSCRIPTION_TYPE,
            "tenantId": tenant_id,
            "kind": "",
            "location": "",
            "resourceGroup": "",
            "subscriptionId": self.subscription_id,
            "managedBy": "",
            "sku": None,
            "plan": None,
            "properties": {
                "subscriptionPolicies": {
                    "locationPlacementId": "Public_2014-09-01",
                    "quotaId": "EnterpriseAgreement_2014-09-01",
                    "spendingLimit": "Off",
                },
                "state": self.state,
                "managementGroupAncestorsChain": [{"displayName": "Tenant Root Group", "name": tenant_id}],
            },
            "tags": {},
            "identity": None,
            "zones": None,
            "extendedLocation": None,
        }


@dataclass(frozen=True, slots=True)
class ResourceGroup:
    subscription_id: str
    name: str
    location: str
    tags: Mapping[str, str] | None = None

    @property
    def id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.name}"

    def to_row(self, tenant_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": RESOURCE_GROUP_TYPE,
            "tenantId": tenant_id,
            "kind": "",
            "location": self.location,
            "resourceGroup": self.name.lower(),
            "subscriptionId": self.subscription_id,
            "managedBy": "",
            "sku": None,
            "plan": None,
            "properties": {"provisioningState": "Succeeded"},
            "tags": None if self.tags is None else dict(self.tags),
            "identity": None,
            "zones": None,
            "extendedLocation": None,
        }


@dataclass(frozen=True, slots=True)
class Resource:
    """One ARM resource. `resource_type` keeps ARM's casing (`Microsoft.Sql/servers/databases`);
    nested types name their parent in `parent` (the server of a database)."""

    subscription_id: str
    resource_group: str
    resource_type: str
    name: str
    location: str
    tags: Mapping[str, str] | None = None
    sku: Mapping[str, Any] | None = None
    kind: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)
    managed_by: str = ""
    identity: Mapping[str, Any] | None = None
    zones: tuple[str, ...] | None = None
    parent: str | None = None

    @property
    def id(self) -> str:
        return resource_id(
            self.subscription_id, self.resource_group, self.resource_type, self.name, self.parent
        )

    def to_row(self, tenant_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.resource_type.lower(),
            "tenantId": tenant_id,
            "kind": self.kind,
            "location": self.location,
            "resourceGroup": self.resource_group.lower(),
            "subscriptionId": self.subscription_id,
            "managedBy": self.managed_by,
            "sku": None if self.sku is None else dict(self.sku),
            "plan": None,
            "properties": dict(self.properties),
            "tags": None if self.tags is None else dict(self.tags),
            "identity": None if self.identity is None else dict(self.identity),
            "zones": None if self.zones is None else list(self.zones),
            "extendedLocation": None,
        }


def resource_id(
    subscription_id: str, resource_group: str, resource_type: str, name: str, parent: str | None = None
) -> str:
    """`/subscriptions/<sub>/resourceGroups/<rg>/providers/<Namespace>/<type>/<name>` (nested types
    interleave names: `.../Microsoft.Sql/servers/<server>/databases/<db>`)."""
    namespace, *types = resource_type.split("/")
    names = [parent, name] if parent is not None and len(types) == 2 else [name]
    if len(types) != len(names):
        raise ValueError(f"resource type {resource_type!r} needs {len(types)} names")
    path = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{namespace}/{path}"


def parse_resource_id(value: str) -> tuple[str, str | None]:
    """(subscription id, resource group or None) of an ARM id; ValueError when it is not one."""
    parts = value.strip("/").split("/")
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        raise ValueError(f"not an ARM resource id: {value!r}")
    group = parts[3] if len(parts) >= 4 and parts[2].lower() == "resourcegroups" else None
    return parts[1].lower(), group


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One Advisor recommendation on `resource_id` (a resource, a resource group or a subscription)."""

    guid: str
    subscription_id: str
    resource_id: str
    impacted_field: str
    impacted_value: str
    category: str
    impact: str
    type_id: str
    problem: str
    solution: str
    last_updated: datetime
    extended: Mapping[str, str] | None = None
    source: str | None = None
    risk: str | None = None

    @property
    def id(self) -> str:
        return f"{self.resource_id}/providers/Microsoft.Advisor/recommendations/{self.guid}"

    @property
    def resource_group(self) -> str | None:
        return parse_resource_id(self.resource_id)[1]

    def to_json(self) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "category": self.category,
            "impact": self.impact,
            "impactedField": self.impacted_field,
            "impactedValue": self.impacted_value,
            "lastUpdated": advisor_time(self.last_updated),
            "recommendationTypeId": self.type_id,
            "shortDescription": {"problem": self.problem, "solution": self.solution},
        }
        if self.risk is not None:
            properties["risk"] = self.risk
        if self.extended is not None:
            properties["extendedProperties"] = dict(self.extended)
        metadata: dict[str, Any] = {"resourceId": self.resource_id}
        if self.source is not None:
            metadata["source"] = self.source
        properties["resourceMetadata"] = metadata
        return {
            "properties": properties,
            "id": self.id,
            "type": "Microsoft.Advisor/recommendations",
            "name": self.guid,
        }


def advisor_time(value: datetime) -> str:
    """Advisor's timestamps carry seven fractional digits: `2026-11-03T07:21:44.1234567Z`."""
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond * 10 + value.microsecond % 10:07d}Z"


@dataclass(frozen=True)
class Defect:
    """A deliberate flaw in the generated data (listed by `AzureStore.defects()`)."""

    kind: str
    target: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "target": self.target, "detail": self.detail}
