"""Azure fixtures: sandboxes serving Azure over HTTPS on free ports, and resources pointed at them.

azure_sandbox   module-scoped sandbox with the demo tenant (3 subscriptions, ~2,000 resources, ~300
                recommendations) and a Resource Graph quota fast enough for tests (1,000 per second).
azure_for       factory: azure_for(server, **fields) = an `AzureResource` on `server`, with a principal of its own
                (its own pacer in this process and its own quota in the sandbox) unless `client_id` is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ppm_resources.azure.resource import AzureResource
from ppm_sandbox import FaultSpec, SandboxConfig, SandboxServer
from ppm_sandbox.azure.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID, AzureConfig

MANAGEMENT_SCOPE = "https://management.azure.com/.default"
EXTRA_CLIENTS = {str(uuid.UUID(int=0xA2E0_0000 + n)): f"extra-secret-{n:04d}" for n in range(40)}


def azure_config(**changes: Any) -> AzureConfig:
    return AzureConfig(**{"extra_clients": EXTRA_CLIENTS, **changes})


def start_azure_sandbox(**changes: Any) -> SandboxServer:
    config = SandboxConfig(faults=FaultSpec.unlimited(), services={"azure": azure_config(**changes)})
    return SandboxServer(config).start()


@pytest.fixture(scope="module")
def azure_sandbox() -> Iterator[SandboxServer]:
    server = start_azure_sandbox(quota=1000, quota_window_s=1.0)
    try:
        yield server
    finally:
        server.stop()


_principals = iter(EXTRA_CLIENTS.items())


def fresh_principal() -> tuple[str, str]:
    """A principal no other test used: its own quota in the sandbox, its own pacer here."""
    return next(_principals)


def azure_resource_for(server: SandboxServer, **fields: Any) -> AzureResource:
    """An Azure resource on ``server``'s emulator; a principal no other test used unless ``client_id`` is given."""
    client_id, secret = (
        (fields.pop("client_id"), fields.pop("client_secret", DEFAULT_CLIENT_SECRET))
        if "client_id" in fields
        else fresh_principal()
    )
    url = server.service_url("azure")
    return AzureResource(
        tenant_id=fields.pop("tenant_id", DEFAULT_TENANT_ID),
        client_id=client_id,
        client_secret=secret,
        authority_url=url,
        arm_url=url,
        credential_scope=MANAGEMENT_SCOPE,
        ca_bundle=str(server.ca_cert),
        **fields,
    )


@pytest.fixture
def azure_for() -> Callable[..., AzureResource]:
    return azure_resource_for


__all__ = ["DEFAULT_CLIENT_ID", "start_azure_sandbox"]
