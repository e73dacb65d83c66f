"""The Azure emulator through the real Azure SDKs, over HTTPS with the sandbox's self-signed certificate.

`ClientSecretCredential` (MSAL underneath) gets its token from the sandbox's identity platform;
`ResourceGraphClient` and `AdvisorManagementClient` call its ARM endpoints. Wire details the SDK hides
(headers, raw JSON, error bodies) are read with `raw_response_hook` or with httpx and a minted token.
"""

from __future__ import annotations

import math
import re
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.advisor import AdvisorManagementClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions, QueryResponse

from ppm_sandbox import FaultSpec, SandboxConfig, SandboxServer
from ppm_sandbox.azure import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_OBJECT_ID,
    DEFAULT_SUBSCRIPTION_IDS,
    DEFAULT_TENANT_ID,
    AzureConfig,
)
from ppm_sandbox.azure.service import AzureService

PROD, NONPROD, SHARED = DEFAULT_SUBSCRIPTION_IDS
ARM_SCOPE = "https://management.azure.com/.default"
SECOND_CLIENT, SECOND_SECRET = "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", "second-secret"
GRAPH = "/providers/Microsoft.ResourceGraph/resources"


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    azure = AzureConfig(extra_clients={SECOND_CLIENT: SECOND_SECRET})
    with SandboxServer(SandboxConfig(faults=FaultSpec.unlimited(), services={"azure": azure})) as sandbox:
        yield sandbox


@pytest.fixture
def azure(server: SandboxServer) -> Iterator[AzureService]:
    """The Azure service, back to start-up state (tenant, quota, faults, stats, clock) around each test."""
    service = server.service("azure", AzureService)
    service.reset()
    server.reset()
    yield service
    service.reset()
    server.reset()


@pytest.fixture
def base(server: SandboxServer) -> str:
    return server.service_url("azure")


@pytest.fixture
def ca(server: SandboxServer) -> str:
    return str(server.ca_cert)


def trusting(ca: str) -> ssl.SSLContext:
    """What httpx verifies the sandbox's certificate with (the PEM is its own CA)."""
    return ssl.create_default_context(cafile=ca)


@pytest.fixture
def credential(azure: AzureService, base: str, ca: str) -> Iterator[ClientSecretCredential]:
    cred = ClientSecretCredential(
        DEFAULT_TENANT_ID,
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        authority=base,
        disable_instance_discovery=True,
        connection_verify=ca,
    )
    yield cred
    cred.close()


MakeGraph = Callable[..., ResourceGraphClient]


@pytest.fixture
def make_graph(credential: ClientSecretCredential, base: str, ca: str) -> Iterator[MakeGraph]:
    clients: list[ResourceGraphClient] = []

    def make(cred: ClientSecretCredential | None = None, **kwargs: Any) -> ResourceGraphClient:
        kwargs.setdefault("api_version", "2024-04-01")
        client = ResourceGraphClient(cred or credential, base_url=base, connection_verify=ca, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def graph(make_graph: MakeGraph) -> ResourceGraphClient:
    return make_graph()


@pytest.fixture
def advisor(
    credential: ClientSecretCredential, base: str, ca: str
) -> Iterator[Callable[[str], AdvisorManagementClient]]:
    clients: list[AdvisorManagementClient] = []

    def make(subscription: str) -> AdvisorManagementClient:
        client = AdvisorManagementClient(credential, subscription, base_url=base, connection_verify=ca)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def arm(azure: AzureService, base: str, ca: str) -> Iterator[httpx.Client]:
    """Raw HTTPS client with a valid ARM token, to read exact wire shapes."""
    token = azure.identity.issue(DEFAULT_CLIENT_ID, "https://management.azure.com")
    with httpx.Client(
        base_url=base, verify=trusting(ca), headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        yield client


def query(
    client: ResourceGraphClient,
    text: str,
    subscriptions: list[str] | None = None,
    *,
    hook: Callable[[Any], None] | None = None,
    **options: Any,
) -> QueryResponse:
    """`client.resources(...)`; `options` are `QueryRequestOptions`, `hook` the SDK's `raw_response_hook`."""
    extra = {} if hook is None else {"raw_response_hook": hook}
    request = QueryRequest(subscriptions=subscriptions, query=text, options=QueryRequestOptions(**options))
    return client.resources(request, **extra)


# identity platform ---------------------------------------------------------------------------------


def test_credential_gets_a_token_from_the_sandbox(
    credential: ClientSecretCredential, base: str, ca: str
) -> None:
    token = credential.get_token(ARM_SCOPE)
    assert token.token.count(".") == 2
    assert 3500 < token.expires_on - datetime.now(UTC).timestamp() <= 3600
    config = httpx.get(
        f"{base}/{DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration", verify=trusting(ca)
    ).json()
    assert config["token_endpoint"] == f"{base}/{DEFAULT_TENANT_ID}/oauth2/v2.0/token"
    assert config["issuer"] == f"{base}/{DEFAULT_TENANT_ID}/v2.0"


def test_wrong_secret_is_aadsts7000215(azure: AzureService, base: str, ca: str) -> None:
    bad = ClientSecretCredential(
        DEFAULT_TENANT_ID,
        DEFAULT_CLIENT_ID,
        "wrong",
        authority=base,
        disable_instance_discovery=True,
        connection_verify=ca,
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        bad.get_token(ARM_SCOPE)
    bad.close()
    response = httpx.post(
        f"{base}/{DEFAULT_TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": "wrong",
            "scope": ARM_SCOPE,
        },
        verify=trusting(ca),
    )
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
    }
    assert body["error"] == "invalid_client" and body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$", body["timestamp"])


@pytest.mark.parametrize(
    ("tenant", "form", "status", "error", "code"),
    [
        ("00000000-0000-0000-0000-000000000000", {}, 400, "invalid_request", 90002),
        (
            DEFAULT_TENANT_ID,
            {"client_id": "11111111-2222-3333-4444-555555555555"},
            400,
            "unauthorized_client",
            700016,
        ),
        (DEFAULT_TENANT_ID, {"client_secret": None}, 401, "invalid_client", 7000218),
        (DEFAULT_TENANT_ID, {"grant_type": None}, 400, "invalid_request", 900144),
        (
            DEFAULT_TENANT_ID,
            {"scope": "https://management.azure.com/user_impersonation"},
            400,
            "invalid_scope",
            1002012,
        ),
        (DEFAULT_TENANT_ID, {"scope": "https://example.org/.default"}, 400, "invalid_resource", 500011),
    ],
)
def test_token_endpoint_errors(
    azure: AzureService,
    base: str,
    ca: str,
    tenant: str,
    form: dict[str, Any],
    status: int,
    error: str,
    code: int,
) -> None:
    fields = {
        "grant_type": "client_credentials",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "scope": ARM_SCOPE,
    }
    fields.update(form)
    response = httpx.post(
        f"{base}/{tenant}/oauth2/v2.0/token",
        data={k: v for k, v in fields.items() if v is not None},
        verify=trusting(ca),
    )
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["error_codes"] == [code]


def test_unknown_tenant_fails_discovery(azure: AzureService, base: str, ca: str) -> None:
    response = httpx.get(f"{base}/not-a-tenant/v2.0/.well-known/openid-configuration", verify=trusting(ca))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_tenant" and response.json()["error_codes"] == [90002]
    other = ClientSecretCredential(
        "00000000-0000-0000-0000-000000000000",
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        authority=base,
        disable_instance_discovery=True,
        connection_verify=ca,
    )
    with pytest.raises(ClientAuthenticationError):
        other.get_token(ARM_SCOPE)
    other.close()


# ARM authentication --------------------------------------------------------------------------------


def test_arm_requires_a_valid_bearer_token(azure: AzureService, base: str, ca: str) -> None:
    body = {"query": "Resources | take 1"}
    url = f"{base}{GRAPH}?api-version=2024-04-01"
    graph_token = azure.identity.issue(DEFAULT_CLIENT_ID, "https://graph.microsoft.com")
    cases = [
        ({}, "AuthenticationFailed", "missing 'Authorization' header"),
        ({"Authorization": "Basic abc"}, "AuthenticationFailed", "invalid 'Authorization' header format"),
        (
            {"Authorization": "Bearer not.a.token"},
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        ),
        ({"Authorization": f"Bearer {graph_token}"}, "InvalidAuthenticationTokenAudience", "wrong audience"),
    ]
    for headers, code, description in cases:
        response = httpx.post(url, json=body, headers=headers, verify=trusting(ca))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == code
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith(
            f'Bearer authorization_uri="{base}/{DEFAULT_TENANT_ID}", error="invalid_token"'
        )
        assert description in challenge
        assert "x-ms-user-quota-remaining" not in response.headers  # refused before Resource Graph


def test_expired_token_is_refused_on_the_sandbox_clock(
    azure: AzureService, server: SandboxServer, graph: ResourceGraphClient
) -> None:
    assert query(graph, "Resources | take 1").count == 1  # token cached by the credential
    server.clock.advance(2 * 3600)
    with pytest.raises(ClientAuthenticationError) as caught:
        query(graph, "Resources | take 1")
    assert caught.value.status_code == 401
    assert caught.value.error is not None and caught.value.error.code == "ExpiredAuthenticationToken"


def test_sandbox_base_url_is_an_accepted_audience(make_graph: MakeGraph, base: str) -> None:
    client = make_graph(credential_scopes=[f"{base}/.default"])
    assert query(client, "Resources | take 2").count == 2


@pytest.mark.parametrize(
    ("suffix", "code"),
    [
        ("", "MissingApiVersionParameter"),
        ("?api-version=2024", "InvalidApiVersionParameter"),
        ("?api-version=2019-04-01", "NoRegisteredProviderFound"),
    ],
)
def test_api_version_is_checked(arm: httpx.Client, suffix: str, code: str) -> None:
    response = arm.post(f"{GRAPH}{suffix}", json={"query": "Resources | take 1"})
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_sdk_default_api_version_is_served_too(make_graph: MakeGraph) -> None:
    client = make_graph(api_version="2021-03-01")
    assert query(client, "Resources | take 1").count == 1


# Resource Graph ------------------------------------------------------------------------------------


def test_pages_every_resource_with_skip_token(azure: AzureService, graph: ResourceGraphClient) -> None:
    expected = {r.id for r in azure.store.resources()}
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = query(
            graph,
            "Resources | project id, name, type, tags",
            DEFAULT_SUBSCRIPTION_IDS,
            top=1000,
            skip_token=token,
        )
        pages += 1
        assert page.total_records == 2000 and page.count == len(page.data)
        assert page.result_truncated == "false"
        seen += [row["id"] for row in page.data]
        assert all(list(row) == ["id", "name", "type", "tags"] for row in page.data)
        token = page.skip_token
        if token is None:
            break
    assert pages == 2 and len(seen) == 2000 and set(seen) == expected
    vm = next(row for row in page.data if row["type"] == "microsoft.compute/virtualmachines")
    assert "/providers/Microsoft.Compute/virtualMachines/" in vm["id"]


def test_default_page_is_1000_and_without_id_there_is_no_skip_token(graph: ResourceGraphClient) -> None:
    page = query(graph, "Resources | project name, type")
    assert (page.total_records, page.count, page.result_truncated, page.skip_token) == (
        2000,
        1000,
        "true",
        None,
    )


def test_limit_truncates_instead_of_paging(graph: ResourceGraphClient) -> None:
    page = query(graph, "Resources | project id | take 1500", top=1000)
    assert (page.total_records, page.count, page.result_truncated, page.skip_token) == (
        1500,
        1000,
        "true",
        None,
    )
    small = query(graph, "Resources | project id, name | limit 3")
    assert (small.total_records, small.count, small.result_truncated, small.skip_token) == (
        3,
        3,
        "false",
        None,
    )


def test_skip_and_top(graph: ResourceGraphClient) -> None:
    everything = [
        row["id"] for row in query(graph, "Resources | project id | order by id asc", top=1000).data
    ]
    window = query(graph, "Resources | project id | order by id asc", top=10, skip=990)
    assert [row["id"] for row in window.data] == everything[990:1000]


def test_top_over_1000_is_refused(graph: ResourceGraphClient) -> None:
    with pytest.raises(HttpResponseError) as caught:
        query(graph, "Resources | project id", top=1001)
    assert (
        caught.value.status_code == 400
        and caught.value.error is not None
        and caught.value.error.code == "BadRequest"
    )


def test_skip_token_is_tied_to_its_query(graph: ResourceGraphClient) -> None:
    token = query(graph, "Resources | project id, name", top=5).skip_token
    assert token
    with pytest.raises(HttpResponseError) as caught:
        query(graph, "Resources | project id, type", skip_token=token)
    assert caught.value.status_code == 400


def test_parse_errors_have_the_resource_graph_shape(arm: httpx.Client) -> None:
    response = arm.post(f"{GRAPH}?api-version=2024-04-01", json={"query": "Resources | where where"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BadRequest"
    assert re.match(
        r"^Please provide below info when asking for support: timestamp = \S+Z, correlationId = [0-9a-f-]{36}\.$",
        error["message"],
    )
    assert error["details"][0]["code"] == "InvalidQuery"
    assert error["details"][0]["message"].startswith("Query is invalid.")
    assert error["details"][1] == {
        "code": "ParserFailure",
        "message": "ParserFailure",
        "line": 1,
        "characterPositionInLine": 18,
        "token": "where",
    }
    assert response.headers["x-ms-user-quota-remaining"] == "14"  # a refused query still counts


def test_sdk_raises_http_response_error_for_bad_queries(graph: ResourceGraphClient) -> None:
    for text in (
        "Resources | where where",
        "Resources | project Name",
        "Resources | summarize count() by type",
    ):
        with pytest.raises(HttpResponseError) as caught:
            query(graph, text)
        assert caught.value.status_code == 400
        assert caught.value.error is not None and caught.value.error.code == "BadRequest"
        assert caught.value.error.details[0].code == "InvalidQuery"


def test_table_result_format(graph: ResourceGraphClient) -> None:
    page = query(graph, "Resources | project id, tags | take 2", result_format="table")
    assert page.data["columns"] == [{"name": "id", "type": "string"}, {"name": "tags", "type": "object"}]
    assert len(page.data["rows"]) == 2


def test_resource_containers_list_subscriptions_and_groups(
    azure: AzureService, graph: ResourceGraphClient
) -> None:
    subs = query(
        graph,
        "ResourceContainers | where type =~ 'Microsoft.Resources/subscriptions' | project id, name, subscriptionId, properties",
    )
    assert sorted(row["name"] for row in subs.data) == ["ppm-nonprod", "ppm-prod", "ppm-shared"]
    assert all(row["properties"]["state"] == "Enabled" for row in subs.data)
    groups = query(
        graph,
        "ResourceContainers | where type == 'microsoft.resources/subscriptions/resourcegroups' | project id, name, resourceGroup, tags",
    )
    assert groups.total_records == 40
    tagged = [row for row in groups.data if row["tags"] and "ppm-project" in row["tags"]]
    assert tagged and all(re.match(r"^PRJ-\d+$", row["tags"]["ppm-project"]) for row in tagged)
    mixed = next(row for row in groups.data if row["name"] != row["name"].lower())
    assert (
        mixed["resourceGroup"] == mixed["name"].lower() and f"/resourceGroups/{mixed['name']}" in mixed["id"]
    )


def test_tag_names_are_case_sensitive_in_queries(azure: AzureService, graph: ResourceGraphClient) -> None:
    exact = query(graph, "Resources | where isnotempty(tags['ppm-project']) | project id", top=1000)
    cased = query(graph, "Resources | where isnotempty(tags['PPM-Project']) | project id")
    misnamed = {d.target for d in azure.store.defects() if d.kind == "tag_name_case"}
    assert {row["id"] for row in cased.data} == misnamed
    assert exact.total_records == azure.store.counts()["links"]["own"]


def test_quota_headers_count_down_then_rate_limiting_with_retry_after(
    azure: AzureService, server: SandboxServer, make_graph: MakeGraph
) -> None:
    server.clock.freeze()
    client = make_graph(retry_total=0)
    responses: list[Any] = []
    hook: Callable[[Any], None] = lambda r: responses.append(r.http_response)  # noqa: E731
    for _ in range(15):
        query(client, "Resources | take 1", hook=hook)
    assert [r.headers["x-ms-user-quota-remaining"] for r in responses] == [str(n) for n in range(14, -1, -1)]
    assert {r.headers["x-ms-user-quota-resets-after"] for r in responses} == {"00:00:05"}
    with pytest.raises(HttpResponseError) as caught:
        query(client, "Resources | take 1")
    assert caught.value.status_code == 429
    assert caught.value.error is not None and caught.value.error.code == "RateLimiting"
    assert caught.value.error.details[0].code == "RateLimiting"
    headers = caught.value.response.headers
    assert headers["Retry-After"] == "5" and headers["x-ms-user-quota-remaining"] == "0"
    # Another principal has its own quota; the first gets a fresh window once its own is over.
    second = ClientSecretCredential(
        DEFAULT_TENANT_ID,
        SECOND_CLIENT,
        SECOND_SECRET,
        authority=server.service_url("azure"),
        disable_instance_discovery=True,
        connection_verify=str(server.ca_cert),
    )
    assert query(make_graph(second, retry_total=0), "Resources | take 1").count == 1
    second.close()
    server.clock.advance(5)
    responses.clear()
    query(client, "Resources | take 1", hook=hook)
    assert responses[0].headers["x-ms-user-quota-remaining"] == "14"


def test_without_retry_after_the_sdk_does_not_retry_a_429(
    azure: AzureService, server: SandboxServer, graph: ResourceGraphClient
) -> None:
    httpx.post(
        f"{server.url}/_sandbox/azure/quota", json={"retry_after": False, "quota": 2}
    ).raise_for_status()
    server.clock.freeze()
    query(graph, "Resources | take 1")
    query(graph, "Resources | take 1")
    with pytest.raises(HttpResponseError) as caught:
        query(graph, "Resources | take 1")  # default retry policy: a POST 429 without Retry-After is final
    assert caught.value.status_code == 429 and "Retry-After" not in caught.value.response.headers
    assert caught.value.response.headers["x-ms-user-quota-resets-after"] == "00:00:05"
    assert server.stats.snapshot()["by_endpoint"][f"POST {GRAPH}"] == 3


def test_with_retry_after_the_sdk_waits_and_succeeds(
    azure: AzureService, server: SandboxServer, graph: ResourceGraphClient
) -> None:
    azure.quota.configure(quota=1, window_s=1.0)
    query(graph, "Resources | take 1")
    page = query(graph, "Resources | take 1")  # 429 Retry-After: 1, then the SDK's own retry
    assert page.count == 1
    stats = server.stats.snapshot()
    assert stats["by_endpoint"][f"POST {GRAPH}"] == 3 and stats["rate_limited"] == 1


def test_denied_subscription_is_invisible_to_resource_graph(
    azure: AzureService, graph: ResourceGraphClient
) -> None:
    azure.store.deny_subscription(NONPROD)
    page = query(graph, "Resources | project id, subscriptionId", [PROD, NONPROD])
    assert {row["subscriptionId"] for row in page.data} == {PROD}
    with pytest.raises(HttpResponseError) as caught:
        query(graph, "Resources | project id", [NONPROD])
    assert caught.value.status_code == 400 and caught.value.error is not None
    assert caught.value.error.details[0].code == "NoValidSubscriptionsInQueryRequest"
    tenant_wide = query(
        graph, "Resources | project subscriptionId | where subscriptionId == '" + NONPROD + "'"
    )
    assert tenant_wide.total_records == 0


def test_mutations_show_up_in_queries(azure: AzureService, graph: ResourceGraphClient) -> None:
    store = azure.store
    store.add_resource_group(PROD, "rg-Sandbox-Lab", tags={"ppm-project": "PRJ-7"})
    res = store.add_resource(
        PROD, "rg-sandbox-lab", "Microsoft.Compute/virtualMachines", "vm-lab", tags={"ppm-project": "PRJ-8"}
    )
    text = "Resources | where resourceGroup == 'rg-sandbox-lab' | project id, tags"
    assert query(graph, text).data == [{"id": res.id, "tags": {"ppm-project": "PRJ-8"}}]
    store.update_tags(res.id, remove=["ppm-project"])
    assert query(graph, text).data == [{"id": res.id, "tags": {}}]
    store.remove_resource(res.id)
    assert query(graph, text).total_records == 0


# Advisor -------------------------------------------------------------------------------------------


def test_advisor_lists_every_recommendation_across_next_links(
    azure: AzureService, advisor: Callable[[str], AdvisorManagementClient], base: str
) -> None:
    pages: list[dict[str, Any]] = []
    expected = azure.store.recommendations(PROD)
    recs = list(
        advisor(PROD).recommendations.list(
            top=25, raw_response_hook=lambda r: pages.append(r.http_response.json())
        )
    )
    assert [r.id for r in recs] == [r.id for r in expected]
    assert len(pages) == math.ceil(len(expected) / 25) > 2
    assert all(
        page["nextLink"].startswith(
            f"{base}/subscriptions/{PROD}/providers/Microsoft.Advisor/recommendations?"
        )
        for page in pages[:-1]
    )
    assert "nextLink" not in pages[-1]
    cost = next(rec for page in pages for rec in page["value"] if rec["properties"]["category"] == "Cost")
    assert (
        set(cost) == {"properties", "id", "type", "name"}
        and cost["type"] == "Microsoft.Advisor/recommendations"
    )
    assert all(isinstance(v, str) for v in cost["properties"]["extendedProperties"].values())
    sdk_cost = next(r for r in recs if r.category == "Cost")
    assert sdk_cost.extended_properties["savingsCurrency"] in ("USD", "EUR", "XYZ")
    assert sdk_cost.short_description is not None and sdk_cost.resource_metadata is not None


def test_advisor_default_page_and_filter(
    azure: AzureService, advisor: Callable[[str], AdvisorManagementClient]
) -> None:
    pages: list[dict[str, Any]] = []
    cost = list(
        advisor(PROD).recommendations.list(
            filter="Category eq 'Cost'", raw_response_hook=lambda r: pages.append(r.http_response.json())
        )
    )
    expected = [r for r in azure.store.recommendations(PROD) if r.category == "Cost"]
    assert [r.name for r in cost] == [r.guid for r in expected]
    assert len(pages[0]["value"]) == min(100, len(expected))


def test_advisor_denied_and_unknown_subscriptions(
    azure: AzureService, advisor: Callable[[str], AdvisorManagementClient]
) -> None:
    azure.store.deny_subscription(SHARED)
    with pytest.raises(HttpResponseError) as denied:
        list(advisor(SHARED).recommendations.list())
    assert denied.value.status_code == 403 and denied.value.error is not None
    assert denied.value.error.code == "AuthorizationFailed"
    assert (
        f"The client '{DEFAULT_CLIENT_ID}' with object id '{DEFAULT_OBJECT_ID}' does not have authorization to perform "
        f"action 'Microsoft.Advisor/recommendations/read' over scope '/subscriptions/{SHARED}'"
    ) in denied.value.error.message
    with pytest.raises(HttpResponseError) as unknown:
        list(advisor("99999999-9999-4999-8999-999999999999").recommendations.list())
    assert unknown.value.status_code == 404 and unknown.value.error is not None
    assert unknown.value.error.code == "SubscriptionNotFound"


def test_advisor_follows_store_changes(
    azure: AzureService, advisor: Callable[[str], AdvisorManagementClient]
) -> None:
    rg_id = f"/subscriptions/{NONPROD}/resourceGroups/rg-portal-dev"
    rec = azure.store.add_recommendation(
        rg_id, extended={"savingsAmount": "12", "annualSavingsAmount": "144", "savingsCurrency": "EUR"}
    )
    listed = {r.name: r for r in advisor(NONPROD).recommendations.list()}
    assert listed[rec.guid].extended_properties == {
        "savingsAmount": "12",
        "annualSavingsAmount": "144",
        "savingsCurrency": "EUR",
    }
    azure.store.remove_subscription(NONPROD)
    with pytest.raises(HttpResponseError) as caught:
        list(advisor(NONPROD).recommendations.list())
    assert caught.value.status_code == 404


# faults, clock, control plane ----------------------------------------------------------------------


def test_gate_faults_speak_the_endpoints_format(
    azure: AzureService, server: SandboxServer, arm: httpx.Client, base: str, ca: str
) -> None:
    faults = server.fault_controller("azure")
    assert faults.spec.rate is None  # Resource Graph's quota is the API's own throttling
    faults.fail_next(1, status=503, path=GRAPH)
    response = arm.post(f"{GRAPH}?api-version=2024-04-01", json={"query": "Resources | take 1"})
    assert response.status_code == 503 and response.json()["error"]["code"] == "ServiceUnavailable"
    faults.fail_next(1, status=500, path="/oauth2/")
    token = httpx.post(f"{base}/{DEFAULT_TENANT_ID}/oauth2/v2.0/token", data={}, verify=trusting(ca))
    assert token.status_code == 500 and token.json()["error"] == "server_error"
    faults.set(rate=1, burst=1)
    arm.post(f"{GRAPH}?api-version=2024-04-01", json={"query": "Resources | take 1"})
    throttled = arm.post(f"{GRAPH}?api-version=2024-04-01", json={"query": "Resources | take 1"})
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "RateLimiting"
    assert server.stats.snapshot()["faults"] == {"status_500": 1, "status_503": 1}


def test_sdk_retries_an_injected_503(
    azure: AzureService, server: SandboxServer, graph: ResourceGraphClient
) -> None:
    server.fault_controller("azure").fail_next(1, status=503, path=GRAPH)
    assert query(graph, "Resources | take 1").count == 1


def test_date_header_is_the_sandbox_clock(
    azure: AzureService, server: SandboxServer, arm: httpx.Client
) -> None:
    frozen = datetime(2026, 11, 21, 10, 42, tzinfo=UTC)
    server.clock.freeze(frozen)
    response = arm.get(
        f"/subscriptions/{PROD}/providers/Microsoft.Advisor/recommendations?api-version=2020-01-01&$top=1"
    )
    assert response.status_code == 200
    assert response.headers["date"] == format_datetime(frozen, usegmt=True)


def test_control_routes(azure: AzureService, server: SandboxServer, base: str, ca: str) -> None:
    with httpx.Client(base_url=f"{server.url}/_sandbox/azure", timeout=10) as control:
        truth = control.get("/truth").json()
        assert truth["resources"] == 2000 and truth["recommendations"] == 300
        assert control.get("/principal").json()["client_id"] == DEFAULT_CLIENT_ID
        assert control.post(f"/subscriptions/{PROD}/deny", json={}).json()["denied"] == [
            {"subscription_id": PROD, "client_id": "*"}
        ]
        assert not azure.store.can_read(DEFAULT_CLIENT_ID, PROD)
        control.post(f"/subscriptions/{PROD}/allow").raise_for_status()
        assert control.post("/quota", json={"quota": 3, "window_s": 2}).json()["quota"] == 3
        assert control.get("/defects").json()["count"] == 46
        created = control.post("/subscriptions", json={"display_name": "ppm-lab"}).json()
        assert created["display_name"] == "ppm-lab"
        token = control.post("/tokens", json={}).json()["access_token"]
        response = httpx.post(
            f"{base}{GRAPH}?api-version=2024-04-01",
            json={"subscriptions": [created["subscription_id"]], "query": "Resources"},
            headers={"Authorization": f"Bearer {token}"},
            verify=trusting(ca),
        )
        assert response.json()["totalRecords"] == 0  # a new subscription is empty
        assert control.post("/_nope").status_code in (404, 405)
        assert httpx.post(f"{server.url}/_sandbox/azure/reset").json() == {"ok": True}
        assert control.get("/truth").json()["subscriptions"] == 3
