"""`AzureStore`: the live tenant behind the emulator, and the mutations tests make to it.

Generated resources are never stored (see `generator`); the store keeps only what changed: removed
generated indices, replaced generated resources (tag edits), added resources, and the live
subscriptions, resource groups, recommendations and access denials. A resource is visible while its
subscription and resource group exist. `version` grows with every mutation, so that query results can
be cached per version.

Access: a principal reads every subscription of the tenant except those denied to it
(`deny_subscription(sub)` for every principal, `deny_subscription(sub, client_id=...)` for one).
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from ppm_sandbox.azure import generator
from ppm_sandbox.azure.config import AzureConfig, subscription_id
from ppm_sandbox.azure.generator import PROJECT_TAG, AzurePlan
from ppm_sandbox.azure.model import (
    Defect,
    Recommendation,
    Resource,
    ResourceGroup,
    Subscription,
    parse_resource_id,
)
from ppm_sandbox.clock import SandboxClock

_ANY = "*"


class AzureStore:
    def __init__(self, config: AzureConfig, *, project_count: int, clock: SandboxClock | None = None) -> None:
        self.config = config
        self.project_count = project_count
        self.clock = clock or SandboxClock()
        self.lock = threading.RLock()
        self.plan: AzurePlan = generator.make_plan(config, project_count)
        self._generated_recommendations, self._recommendation_defects = generator.generate_recommendations(
            self.plan
        )
        self._generated_ids: dict[str, int] | None = None
        self.version = 0
        self.reset()

    # lifecycle -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the generated tenant: every mutation and denial undone."""
        with self.lock:
            self.version += 1
            self._subscriptions: dict[str, Subscription] = {
                s.subscription_id: s for s in self.plan.subscriptions
            }
            self._groups: dict[tuple[str, str], ResourceGroup] = {
                (g.subscription_id, g.name.lower()): g for g in self.plan.resource_groups
            }
            self._removed: set[int] = set()
            self._replaced: dict[int, Resource] = {}
            self._added: dict[str, Resource] = {}
            self._recommendations: dict[str, Recommendation] = {
                r.guid: r for r in self._generated_recommendations
            }
            self._denied: set[tuple[str, str]] = {(_ANY, s.lower()) for s in self.config.denied_subscriptions}

    def _touch(self) -> None:
        self.version += 1

    # principals ----------------------------------------------------------------------------------
    @property
    def tenant_id(self) -> str:
        return self.config.tenant_id

    def clients(self) -> dict[str, str]:
        return self.config.clients()

    def object_id(self, client_id: str) -> str:
        """Object id of a principal's service principal (fixed for the demo one)."""
        if client_id == self.config.client_id:
            return self.config.object_id
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ppm-sandbox:sp:{client_id}"))

    # subscriptions and access --------------------------------------------------------------------
    def subscriptions(self) -> list[Subscription]:
        with self.lock:
            return list(self._subscriptions.values())

    def subscription(self, subscription: str) -> Subscription | None:
        with self.lock:
            return self._subscriptions.get(subscription.lower())

    def can_read(self, client_id: str, subscription: str) -> bool:
        sub = subscription.lower()
        with self.lock:
            return sub in self._subscriptions and not (
                (_ANY, sub) in self._denied or (client_id, sub) in self._denied
            )

    def readable(self, client_id: str) -> list[str]:
        with self.lock:
            return [s for s in self._subscriptions if self.can_read(client_id, s)]

    def deny_subscription(self, subscription: str, client_id: str | None = None) -> None:
        with self.lock:
            self._denied.add((client_id or _ANY, subscription.lower()))
            self._touch()

    def allow_subscription(self, subscription: str, client_id: str | None = None) -> None:
        """Lift a denial (for one principal, or the tenant-wide one and every per-principal one)."""
        sub = subscription.lower()
        with self.lock:
            if client_id:
                self._denied.discard((client_id, sub))
            else:
                self._denied = {(who, s) for who, s in self._denied if s != sub}
            self._touch()

    def denied(self) -> list[dict[str, str]]:
        with self.lock:
            return [{"subscription_id": s, "client_id": who} for who, s in sorted(self._denied)]

    def add_subscription(
        self, display_name: str, subscription_id_: str | None = None, *, currency: str = "USD"
    ) -> Subscription:
        """A new, empty subscription (add resource groups and resources to it)."""
        with self.lock:
            sub_id = (subscription_id_ or self._next_subscription_id()).lower()
            if sub_id in self._subscriptions:
                raise ValueError(f"subscription {sub_id} already exists")
            sub = Subscription(sub_id, display_name, currency=currency)
            self._subscriptions[sub_id] = sub
            self._touch()
            return sub

    def _next_subscription_id(self) -> str:
        n = len(self.plan.subscriptions)
        while subscription_id(n) in self._subscriptions:
            n += 1
        return subscription_id(n)

    def remove_subscription(self, subscription: str) -> None:
        """The subscription disappears from the tenant with everything in it (ARM: SubscriptionNotFound)."""
        with self.lock:
            if self._subscriptions.pop(subscription.lower(), None) is None:
                raise KeyError(f"subscription {subscription} not found")
            self._touch()

    # resource groups -----------------------------------------------------------------------------
    def resource_groups(self, subscriptions: Iterable[str] | None = None) -> list[ResourceGroup]:
        with self.lock:
            scope = None if subscriptions is None else {s.lower() for s in subscriptions}
            return [
                g
                for (sub, _), g in self._groups.items()
                if sub in self._subscriptions and (scope is None or sub in scope)
            ]

    def resource_group(self, subscription: str, name: str) -> ResourceGroup | None:
        with self.lock:
            return self._groups.get((subscription.lower(), name.lower()))

    def add_resource_group(
        self,
        subscription: str,
        name: str,
        location: str = "westeurope",
        tags: Mapping[str, str] | None = None,
    ) -> ResourceGroup:
        with self.lock:
            sub = subscription.lower()
            if sub not in self._subscriptions:
                raise KeyError(f"subscription {subscription} not found")
            if (sub, name.lower()) in self._groups:
                raise ValueError(f"resource group {name} already exists in {subscription}")
            group = ResourceGroup(sub, name, location, None if tags is None else dict(tags))
            self._groups[(sub, name.lower())] = group
            self._touch()
            return group

    def remove_resource_group(self, subscription: str, name: str) -> None:
        """Deleting a group deletes what is in it (hidden: resources need their group)."""
        with self.lock:
            if self._groups.pop((subscription.lower(), name.lower()), None) is None:
                raise KeyError(f"resource group {name} not found in {subscription}")
            self._touch()

    # resources -----------------------------------------------------------------------------------
    def _visible(self, res: Resource) -> bool:
        return (
            res.subscription_id in self._subscriptions
            and (res.subscription_id, res.resource_group.lower()) in self._groups
        )

    def resources(self, subscriptions: Iterable[str] | None = None) -> Iterator[Resource]:
        """Live resources (generated order, then added ones), optionally of some subscriptions only.

        Iterates over a snapshot of the live state taken when it starts (no lock held meanwhile)."""
        scope = None if subscriptions is None else {s.lower() for s in subscriptions}
        with self.lock:
            removed, replaced = set(self._removed), dict(self._replaced)
            added = list(self._added.values())
            subs, groups = set(self._subscriptions), set(self._groups)
        generated_subs = {self.plan.resource_groups[i].subscription_id for i in self.plan.hosts}

        def visible(res: Resource) -> bool:
            return (
                (scope is None or res.subscription_id in scope)
                and res.subscription_id in subs
                and (res.subscription_id, res.resource_group.lower()) in groups
            )

        if scope is None or scope & generated_subs:
            for index in range(self.plan.resource_count):
                if index in removed:
                    continue
                res = replaced.get(index) or generator.resource(self.plan, index)
                if visible(res):
                    yield res
        for res in added:
            if visible(res):
                yield res

    def _generated_index(self, resource_id: str) -> int | None:
        if self._generated_ids is None:
            self._generated_ids = {
                generator.resource(self.plan, i).id.lower(): i for i in range(self.plan.resource_count)
            }
        return self._generated_ids.get(resource_id.lower())

    def resource(self, resource_id: str) -> Resource:
        """The live resource with this id (case-insensitive, as ARM ids are); KeyError if none."""
        with self.lock:
            key = resource_id.lower()
            if key in self._added and self._visible(self._added[key]):
                return self._added[key]
            index = self._generated_index(resource_id)
            if index is not None and index not in self._removed:
                res = self._replaced.get(index) or generator.resource(self.plan, index)
                if self._visible(res):
                    return res
            raise KeyError(f"resource {resource_id} not found")

    def add_resource(
        self,
        subscription: str,
        resource_group: str,
        resource_type: str,
        name: str,
        *,
        location: str | None = None,
        tags: Mapping[str, str] | None = None,
        sku: Mapping[str, Any] | None = None,
        kind: str = "",
        properties: Mapping[str, Any] | None = None,
        parent: str | None = None,
    ) -> Resource:
        with self.lock:
            group = self.resource_group(subscription, resource_group)
            if group is None or group.subscription_id not in self._subscriptions:
                raise KeyError(f"resource group {resource_group} not found in {subscription}")
            res = Resource(
                subscription_id=group.subscription_id,
                resource_group=group.name,
                resource_type=resource_type,
                name=name,
                location=location or group.location,
                tags=None if tags is None else dict(tags),
                sku=None if sku is None else dict(sku),
                kind=kind,
                properties=dict(properties or {"provisioningState": "Succeeded"}),
                parent=parent,
            )
            try:
                self.resource(res.id)
            except KeyError:
                pass
            else:
                raise ValueError(f"resource {res.id} already exists")
            self._added[res.id.lower()] = res
            self._touch()
            return res

    def remove_resource(self, resource_id: str) -> None:
        with self.lock:
            self.resource(resource_id)  # KeyError when absent
            if self._added.pop(resource_id.lower(), None) is None:
                index = self._generated_index(resource_id)
                assert index is not None
                self._removed.add(index)
                self._replaced.pop(index, None)
            self._touch()

    def set_tags(self, target_id: str, tags: Mapping[str, str] | None) -> None:
        """Replace the tags of a resource or resource group (`None`: no tags object at all)."""
        value = None if tags is None else {str(k): str(v) for k, v in tags.items()}
        with self.lock:
            sub, group_name = parse_resource_id(target_id)
            is_group = group_name is not None and target_id.rstrip("/").count("/") == 4
            if is_group:
                group = self.resource_group(sub, group_name or "")
                if group is None:
                    raise KeyError(f"resource group {target_id} not found")
                self._groups[(group.subscription_id, group.name.lower())] = replace(group, tags=value)
            else:
                res = self.resource(target_id)
                new = replace(res, tags=value)
                if res.id.lower() in self._added:
                    self._added[res.id.lower()] = new
                else:
                    index = self._generated_index(target_id)
                    assert index is not None
                    self._replaced[index] = new
            self._touch()

    def update_tags(
        self, target_id: str, set_: Mapping[str, str] | None = None, remove: Iterable[str] = ()
    ) -> None:
        """Merge `set_` into the tags of a resource or group and drop the `remove` names."""
        with self.lock:
            sub, group_name = parse_resource_id(target_id)
            if group_name is not None and target_id.rstrip("/").count("/") == 4:
                group = self.resource_group(sub, group_name)
                current = dict(group.tags or {}) if group else {}
            else:
                current = dict(self.resource(target_id).tags or {})
            current.update(set_ or {})
            for name in remove:
                current.pop(name, None)
            self.set_tags(target_id, current)

    # recommendations -----------------------------------------------------------------------------
    def recommendations(self, subscription: str | None = None) -> list[Recommendation]:
        with self.lock:
            sub = None if subscription is None else subscription.lower()
            return [
                r
                for r in self._recommendations.values()
                if r.subscription_id in self._subscriptions and (sub is None or r.subscription_id == sub)
            ]

    def add_recommendation(
        self,
        resource_id: str,
        *,
        category: str = "Cost",
        impact: str = "Medium",
        problem: str = "Sandbox recommendation",
        solution: str = "Sandbox recommendation",
        extended: Mapping[str, str] | None = None,
        impacted_field: str | None = None,
        impacted_value: str | None = None,
        type_id: str | None = None,
        last_updated: datetime | None = None,
        guid: str | None = None,
    ) -> Recommendation:
        """A recommendation on any ARM id (it need not exist: Advisor lags behind deletions)."""
        sub, _ = parse_resource_id(resource_id)
        parts = resource_id.strip("/").split("/")
        with self.lock:
            if sub not in self._subscriptions:
                raise KeyError(f"subscription {sub} not found")
            rec = Recommendation(
                guid=guid or str(uuid.uuid4()),
                subscription_id=sub,
                resource_id=resource_id,
                impacted_field=impacted_field
                or (f"{parts[5]}/{parts[6]}" if len(parts) >= 8 else "Microsoft.Subscriptions/subscriptions"),
                impacted_value=impacted_value or parts[-1],
                category=category,
                impact=impact,
                type_id=type_id
                or str(uuid.uuid5(uuid.NAMESPACE_URL, f"ppm-sandbox:rec:{category}:{problem}")),
                problem=problem,
                solution=solution,
                last_updated=last_updated or self.clock.now(),
                extended=None if extended is None else {str(k): str(v) for k, v in extended.items()},
            )
            self._recommendations[rec.guid] = rec
            self._touch()
            return rec

    def remove_recommendation(self, recommendation: str) -> None:
        """By guid (`name`) or full id."""
        guid = recommendation.rstrip("/").split("/")[-1]
        with self.lock:
            if self._recommendations.pop(guid, None) is None:
                raise KeyError(f"recommendation {recommendation} not found")
            self._touch()

    # ground truth --------------------------------------------------------------------------------
    def link(self, res: Resource) -> str:
        """`own` (exact `ppm-project` tag), `group` (through its resource group only) or `none`."""
        if res.tags and PROJECT_TAG in res.tags:
            return "own"
        group = self._groups.get((res.subscription_id, res.resource_group.lower()))
        return "group" if group is not None and group.tags and PROJECT_TAG in group.tags else "none"

    def defects(self) -> list[Defect]:
        """Planted defects still present (a removed or retagged resource takes its defect with it)."""
        with self.lock:
            found = []
            for defect in generator.resource_defects(self.plan):
                index = self._generated_index(defect.target)
                if index is None or index in self._removed or index in self._replaced:
                    continue
                try:
                    self.resource(defect.target)
                except KeyError:
                    continue
                found.append(defect)
            live = {r.guid for r in self.recommendations()}
            found += [d for d in self._recommendation_defects if d.target.rsplit("/", 1)[-1] in live]
            return found

    def counts(self) -> dict[str, Any]:
        """Ground truth for tests: sizes per subscription, project links, recommendations by category."""
        with self.lock:
            per_sub: dict[str, dict[str, Any]] = {
                s.subscription_id: {
                    "name": s.display_name,
                    "resource_groups": 0,
                    "resources": 0,
                    "recommendations": 0,
                }
                for s in self._subscriptions.values()
            }
            for group in self.resource_groups():
                per_sub[group.subscription_id]["resource_groups"] += 1
            links: Counter[str] = Counter()
            for res in self.resources():
                per_sub[res.subscription_id]["resources"] += 1
                links[self.link(res)] += 1
            recs = self.recommendations()
            for rec in recs:
                per_sub[rec.subscription_id]["recommendations"] += 1
            return {
                "tenant_id": self.tenant_id,
                "subscriptions": len(per_sub),
                "resource_groups": sum(v["resource_groups"] for v in per_sub.values()),
                "resources": sum(v["resources"] for v in per_sub.values()),
                "recommendations": len(recs),
                "by_subscription": per_sub,
                "links": {k: links.get(k, 0) for k in ("own", "group", "none")},
                "recommendations_by_category": dict(Counter(r.category for r in recs)),
                "denied": self.denied(),
                "version": self.version,
            }
