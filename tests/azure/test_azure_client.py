"""The Azure client against the sandbox over HTTPS, through the real SDKs (azure-identity, azure-mgmt-*)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from ppm_resources.azure import AzureAccessDeniedError, AzureAuthenticationError, AzureError
from ppm_resources.azure.credential import AzureCredentialConfig, build_credential
from ppm_resources.azure.resource import AzureResource
from ppm_sandbox import SandboxServer
from ppm_sandbox.azure.config import DEFAULT_TENANT_ID
from ppm_sandbox.azure.service import AzureService

from .conftest import MANAGEMENT_SCOPE, fresh_principal, start_azure_sandbox

AzureFor = Callable[..., AzureResource]


def store(server: SandboxServer):  # -> AzureStore
    return server.service("azure", AzureService).store


def test_the_real_client_secret_credential_gets_a_token(azure_sandbox: SandboxServer) -> None:
    client_id, secret = fresh_principal()
    credential = build_credential(
        AzureCredentialConfig(
            tenant_id=DEFAULT_TENANT_ID,
            client_id=client_id,
            client_secret=__import__("pydantic").SecretStr(secret),
            authority_url=azure_sandbox.service_url("azure"),
            ca_bundle=str(azure_sandbox.ca_cert),
        )
    )
    token = credential.get_token(MANAGEMENT_SCOPE)
    assert token.token and token.expires_on > 0
    assert type(credential).__name__ == "ClientSecretCredential"


def test_a_wrong_secret_fails_with_the_aadsts_code_and_never_the_secret(
    azure_sandbox: SandboxServer, azure_for: AzureFor, caplog: pytest.LogCaptureFixture
) -> None:
    client_id, _ = fresh_principal()
    wrong = "definitely-not-the-secret-1234"
    azure = azure_for(azure_sandbox, client_id=client_id, client_secret=wrong)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AzureAuthenticationError) as raised, azure.client() as client:
        client.subscriptions()
    message = str(raised.value)
    assert "AADSTS7000215" in message and "AZURE_CLIENT_SECRET" in message
    assert wrong not in message and wrong not in caplog.text


def test_resource_graph_pages_through_every_resource_with_skip_tokens(
    azure_sandbox: SandboxServer, azure_for: AzureFor
) -> None:
    subscription = store(azure_sandbox).subscriptions()[0].subscription_id
    expected = {r.id.lower() for r in store(azure_sandbox).resources([subscription])}
    with azure_for(azure_sandbox, page_rows=100).client() as client:
        pages = list(client.resource_pages(subscription))
        assert client.stats.throttled == 0
    ids = [row["id"].lower() for page in pages for row in page]
    assert len(pages) == -(-len(expected) // 100) and len(pages) > 5
    assert len(ids) == len(set(ids)) and set(ids) == expected


def test_discovery_and_resource_groups_come_from_resource_containers(
    azure_sandbox: SandboxServer, azure_for: AzureFor
) -> None:
    with azure_for(azure_sandbox).client() as client:
        found = {s.subscription_id: s for s in client.subscriptions()}
        subscription = sorted(found)[0]
        containers = client.containers(subscription)
    assert set(found) == {s.subscription_id for s in store(azure_sandbox).subscriptions()}
    groups = [row for row in containers if row["type"] == "microsoft.resources/subscriptions/resourcegroups"]
    assert {g["name"].lower() for g in groups} == {
        g.name.lower() for g in store(azure_sandbox).resource_groups([subscription])
    }
    assert any((g.get("tags") or {}).get("ppm-project") for g in groups)


def test_advisor_follows_next_link_and_keeps_the_raw_extended_properties(
    azure_sandbox: SandboxServer, azure_for: AzureFor
) -> None:
    subscription = store(azure_sandbox).subscriptions()[0].subscription_id
    expected = {r.id.lower() for r in store(azure_sandbox).recommendations(subscription)}
    with azure_for(azure_sandbox).client() as client:
        pages = list(client.recommendation_pages(subscription))
    rows = [row for page in pages for row in page]
    assert len(pages) > 1
    assert {row["id"].lower() for row in rows} == expected
    cost = [row for row in rows if row["properties"]["category"] == "Cost"]
    savings = [row["properties"]["extendedProperties"].get("savingsAmount") for row in cost]
    assert cost and all(isinstance(value, str) for value in savings if value is not None)


def test_a_subscription_the_principal_cannot_read_is_an_access_error_naming_it_and_the_role(
    azure_for: AzureFor,
) -> None:
    server = start_azure_sandbox(quota=1000, quota_window_s=1.0)
    try:
        denied = store(server).subscriptions()[1].subscription_id
        store(server).deny_subscription(denied)
        with azure_for(server).client() as client:
            with pytest.raises(AzureAccessDeniedError) as advisor:
                list(client.recommendation_pages(denied))
            with pytest.raises(AzureAccessDeniedError) as graph:
                client.containers(denied)
            readable = store(server).subscriptions()[0].subscription_id
            assert client.containers(readable)
        for error in (advisor.value, graph.value):
            assert denied in str(error) and "Reader" in str(error)
        assert "AuthorizationFailed" in str(advisor.value)
    finally:
        server.stop()


@pytest.mark.parametrize("retry_after", [True, False], ids=["with-retry-after", "without-retry-after"])
def test_quota_spent_elsewhere_waits_and_never_fails(azure_for: AzureFor, retry_after: bool) -> None:
    """Another process of the same principal spends the quota: the client meets 429s, with or without
    `Retry-After`, waits them out and reads everything."""
    server = start_azure_sandbox(quota=4, quota_window_s=1.0, retry_after=retry_after)
    try:
        service = server.service("azure", AzureService)
        subscription = store(server).subscriptions()[0].subscription_id
        expected = sum(1 for _ in store(server).resources([subscription]))
        azure = azure_for(server, page_rows=100, quota_requests=4, quota_window_s=1.0)
        rows = 0
        with azure.client() as client:
            for number, page in enumerate(client.resource_pages(subscription)):
                rows += len(page)
                if number % 5 == 0:  # the other process spends what is left of the window
                    while service.quota.take(str(azure.client_id)).allowed:
                        pass
            assert client.stats.throttled > 0
        assert rows == expected
    finally:
        server.stop()


def test_pacing_from_the_quota_avoids_429s(azure_for: AzureFor) -> None:
    server = start_azure_sandbox(quota=4, quota_window_s=1.0)
    try:
        subscription = store(server).subscriptions()[0].subscription_id
        with azure_for(server, page_rows=100, quota_requests=4, quota_window_s=1.0).client() as client:
            pages = list(client.resource_pages(subscription))
            assert len(pages) > 4 and client.stats.throttled == 0
            assert client.stats.waited_s > 0
    finally:
        server.stop()


def test_a_connection_reset_or_a_502_mid_listing_is_retried_with_the_same_skip_token(
    azure_sandbox: SandboxServer, azure_for: AzureFor
) -> None:
    subscription = store(azure_sandbox).subscriptions()[0].subscription_id
    expected = sum(1 for _ in store(azure_sandbox).resources([subscription]))
    faults = azure_sandbox.fault_controller("azure")
    with azure_for(azure_sandbox, page_rows=100).client() as client:
        pages = client.resource_pages(subscription)
        rows = len(next(pages))
        faults.fail_next(1, kind="reset", path="Microsoft.ResourceGraph")
        faults.fail_next(1, status=502, path="Microsoft.ResourceGraph")
        rows += sum(len(page) for page in pages)
    faults.reset()
    assert rows == expected


def test_an_unreachable_endpoint_is_a_clear_error(azure_for: AzureFor, azure_sandbox: SandboxServer) -> None:
    azure = azure_for(azure_sandbox).model_copy(update={"arm_url": "https://127.0.0.1:9"})
    with pytest.raises(AzureError) as raised, azure.client(max_retries=0) as client:
        client.subscriptions()
    assert "cannot reach https://127.0.0.1:9" in str(raised.value)
