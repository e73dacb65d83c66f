"""`AzureConfig`: how the Azure emulator's tenant, principal, inventory and limits are generated.

Everything is deterministic from the seed. The default principal is a fixed demo service principal
(tenant, client id, secret below); `extra_clients` adds more principals with the same access (each gets
its own Resource Graph quota). `bench_resources` puts that many resources in the first subscription for
benchmarks (`AzureConfig.bench()` = 100,000).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ppm_sandbox.notion.workspace import DEFAULT_ANCHOR

DEFAULT_TENANT_ID = "72f988bf-0000-4000-8000-000000000001"
DEFAULT_CLIENT_ID = "5a1f0c3e-7b2d-4e8f-9a6b-0c1d2e3f4a5b"
DEFAULT_CLIENT_SECRET = "sandbox-azure-secret"
#: Object id of the demo principal's service principal (what ARM names in AuthorizationFailed).
DEFAULT_OBJECT_ID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"

#: Display names of the first subscriptions; further ones are `ppm-sandbox-<n>`.
SUBSCRIPTION_NAMES: tuple[str, ...] = ("ppm-prod", "ppm-nonprod", "ppm-shared")
_SUBSCRIPTION_ID_PREFIX = "0b5f1c4e-3a2d-4e6f-8a7b-9c0d1e2f"


def subscription_id(ordinal: int) -> str:
    """Fixed id of the `ordinal`-th generated subscription (0-based): ...3a01, ...3a02, ..."""
    return f"{_SUBSCRIPTION_ID_PREFIX}{0x3A01 + ordinal:04x}"


def subscription_name(ordinal: int) -> str:
    return SUBSCRIPTION_NAMES[ordinal] if ordinal < len(SUBSCRIPTION_NAMES) else f"ppm-sandbox-{ordinal + 1}"


#: Default subscription ids, in order: ppm-prod, ppm-nonprod, ppm-shared.
DEFAULT_SUBSCRIPTION_IDS: tuple[str, ...] = tuple(subscription_id(i) for i in range(len(SUBSCRIPTION_NAMES)))


@dataclass(frozen=True)
class AzureConfig:
    """Start-up state of the Azure emulator (`SandboxConfig(services={"azure": AzureConfig(...)})`).

    `project_count=None` takes the live projects of the Notion demo workspace (`PRJ-1` ... `PRJ-59` by
    default: the 60th starts in the trash), so that the `ppm-project` tags join the Notion data.
    `quota` requests per `quota_window_s` per principal is the Resource Graph quota; `retry_after` says
    whether its 429 carries `Retry-After` besides `x-ms-user-quota-resets-after` (both modes are real).
    """

    seed: int = 42
    tenant_id: str = DEFAULT_TENANT_ID
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    object_id: str = DEFAULT_OBJECT_ID
    extra_clients: Mapping[str, str] = field(default_factory=dict)
    subscriptions: int = 3
    resource_groups: int = 40
    resources: int = 2000
    recommendations: int = 300
    bench_resources: int = 0
    denied_subscriptions: tuple[str, ...] = ()
    quota: int = 15
    quota_window_s: float = 5.0
    retry_after: bool = True
    token_lifetime_s: int = 3599
    advisor_page_size: int = 100
    project_count: int | None = None
    anchor: datetime = DEFAULT_ANCHOR
    defect_period: int = 50

    @classmethod
    def bench(cls, resources: int = 100_000, **changes: object) -> AzureConfig:
        """Benchmark inventory: `resources` resources, all in the first subscription."""
        return cls(bench_resources=resources, **changes)  # type: ignore[arg-type]

    @property
    def resource_count(self) -> int:
        return self.bench_resources or self.resources

    def clients(self) -> dict[str, str]:
        """Client id -> secret of every principal the tenant knows."""
        return {self.client_id: self.client_secret, **dict(self.extra_clients)}

    def validate(self) -> None:
        if self.subscriptions < 1:
            raise ValueError("azure: subscriptions must be >= 1")
        if self.resource_groups < self.subscriptions:
            raise ValueError("azure: resource_groups must be >= subscriptions")
        if self.resources < 0 or self.bench_resources < 0 or self.recommendations < 0:
            raise ValueError("azure: counts must be >= 0")
        if self.quota < 1 or self.quota_window_s <= 0:
            raise ValueError("azure: quota must be >= 1 and quota_window_s > 0")
        if self.token_lifetime_s < 1 or self.advisor_page_size < 1 or self.defect_period < 2:
            raise ValueError("azure: token_lifetime_s, advisor_page_size must be >= 1, defect_period >= 2")
