"""`AzureClient`: what the assets read from Azure, page by page, through the SDKs.

- Resource Graph (`azure-mgmt-resourcegraph`, api 2024-04-01): one query per subscription (or per batch of up to
  300 subscriptions), `$top` 1000, our own `$skipToken` loop (the SDK does not follow it), every request paced
  by the principal's `QuotaPacer`; a 429 waits and retries (the SDK does not retry a POST 429 without
  `Retry-After`). The inventory query projects `id`, without which Resource Graph returns no skip token.
- Advisor (`azure-mgmt-advisor`): `recommendations.list()` per subscription follows `nextLink`; the raw JSON of
  each page is kept through `raw_response_hook`, because the SDK's models flatten `extendedProperties`.

Errors come out as `AzureError`s whose message names the subscription and what to do; an unreadable
subscription is an `AzureAccessDeniedError`, so its partition fails alone.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ppm_resources.azure.credential import MANAGEMENT_URL, AzureCredentialConfig, build_credential
from ppm_resources.azure.errors import (
    AzureAccessDeniedError,
    AzureAuthenticationError,
    AzureError,
    AzureQuotaError,
)
from ppm_resources.azure.quota import QuotaPacer, shared_quota_pacer
from ppm_resources.secrets import scrub

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

log = logging.getLogger(__name__)

# azure-core logs every request and response header at INFO: noise in the run log, nothing our progress lines
# do not say.
for _name in ("azure.core.pipeline.policies.http_logging_policy", "azure.identity", "msal"):
    logging.getLogger(_name).setLevel(logging.WARNING)

RESOURCE_GRAPH_API_VERSION = "2024-04-01"
#: Resource Graph's answer when none of the requested subscriptions is readable by the principal.
NO_VALID_SUBSCRIPTIONS = "NoValidSubscriptionsInQueryRequest"
#: Answers worth another try of a Resource Graph POST (the SDK retries only some of them on a POST).
RETRIED_STATUSES = frozenset({500, 502, 503, 504})
BACKOFF_INITIAL_S, BACKOFF_MAX_S = 1.0, 8.0
MAX_PAGE_ROWS = 1000  # Resource Graph's `$top` ceiling
MAX_SUBSCRIPTIONS_PER_QUERY = 300
#: Advisor's vocabulary (what the checks accept and the KPIs break savings down by).
ADVISOR_CATEGORIES = ("Cost", "Security", "HighAvailability", "Performance", "OperationalExcellence")
ADVISOR_IMPACTS = ("High", "Medium", "Low")
SUBSCRIPTION_TYPE = "microsoft.resources/subscriptions"
RESOURCE_GROUP_TYPE = "microsoft.resources/subscriptions/resourcegroups"
INVENTORY_COLUMNS = "id, name, type, location, resourceGroup, subscriptionId, tags, sku, kind"

RESOURCES_QUERY = f"Resources | project {INVENTORY_COLUMNS} | order by id asc"
CONTAINERS_QUERY = (
    f"ResourceContainers | where type in~ ('{SUBSCRIPTION_TYPE}', '{RESOURCE_GROUP_TYPE}') "
    f"| project {INVENTORY_COLUMNS}, properties | order by id asc"
)
SUBSCRIPTIONS_QUERY = (
    f"ResourceContainers | where type =~ '{SUBSCRIPTION_TYPE}' "
    "| project id, name, subscriptionId, properties | order by id asc"
)


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    name: str
    state: str | None


@dataclass(frozen=True)
class AzureClientConfig:
    credential: AzureCredentialConfig = field(default_factory=AzureCredentialConfig)
    arm_url: str = MANAGEMENT_URL
    # The token's audience: the management endpoint's own (`<arm_url>/.default`) unless set (the sandbox issues
    # tokens for the public cloud's audience while serving on a local address).
    credential_scope: str | None = None
    page_rows: int = MAX_PAGE_ROWS
    quota_requests: int = 15
    quota_window_s: float = 5.0
    max_throttled_retries: int = 20
    # Per request: the SDK's own retries (of what it retries: not most failures of a POST), and ours of a Resource
    # Graph POST after a connection error, a timeout or a 5xx.
    max_retries: int = 3
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0


@dataclass
class RequestStats:
    requests: int = 0
    throttled: int = 0
    rows: int = 0
    waited_s: float = 0.0


class AzureClient:
    """One per run; the pacer is shared by every client of the same principal in the process."""

    def __init__(self, config: AzureClientConfig, credential: TokenCredential | None = None) -> None:
        if not 1 <= config.page_rows <= MAX_PAGE_ROWS:
            raise ValueError(f"page_rows must be between 1 and {MAX_PAGE_ROWS}, got {config.page_rows}")
        self.config = config
        self.credential = credential or build_credential(config.credential)
        self.pacer: QuotaPacer = shared_quota_pacer(
            config.credential.principal,
            requests=config.quota_requests,
            window_s=config.quota_window_s,
        )
        self.stats = RequestStats()
        self._graph: Any = None

    # ------------------------------------------------------------------------------------------ SDK clients
    def _sdk_options(self) -> dict[str, Any]:
        base = self.config.arm_url.rstrip("/")
        options: dict[str, Any] = {
            "base_url": base,
            # The token is for the management endpoint the client talks to (the sandbox, a sovereign cloud).
            "credential_scopes": [self.config.credential_scope or f"{base}/.default"],
            "retry_total": self.config.max_retries,
            "connection_timeout": self.config.connect_timeout_s,
            "read_timeout": self.config.read_timeout_s,
        }
        if self.config.credential.ca_bundle:
            options["connection_verify"] = self.config.credential.ca_bundle
        return options

    def _resource_graph(self) -> Any:
        if self._graph is None:
            from azure.mgmt.resourcegraph import ResourceGraphClient

            self._graph = ResourceGraphClient(
                self.credential, api_version=RESOURCE_GRAPH_API_VERSION, **self._sdk_options()
            )
        return self._graph

    def _advisor(self, subscription_id: str) -> Any:
        from azure.mgmt.advisor import AdvisorManagementClient

        return AdvisorManagementClient(self.credential, subscription_id, **self._sdk_options())

    def close(self) -> None:
        if self._graph is not None:
            self._graph.close()
            self._graph = None
        close = getattr(self.credential, "close", None)
        if callable(close):
            close()  # its HTTP session: a sensor builds a client every tick in the long-lived code server

    def __enter__(self) -> AzureClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------------------------------- Resource Graph
    def query_pages(
        self, query: str, subscriptions: Sequence[str] | None = None, *, what: str = "Resource Graph query"
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of rows of `query` over `subscriptions` (None: every subscription the principal sees)."""
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

        if subscriptions is not None and len(subscriptions) > MAX_SUBSCRIPTIONS_PER_QUERY:
            raise ValueError(f"at most {MAX_SUBSCRIPTIONS_PER_QUERY} subscriptions per query")
        skip_token: str | None = None
        while True:
            request = QueryRequest(
                subscriptions=list(subscriptions) if subscriptions is not None else None,
                query=query,
                options=QueryRequestOptions(
                    top=self.config.page_rows, skip_token=skip_token, result_format="objectArray"
                ),
            )
            response = self._paced_graph_call(request, what, subscriptions)
            rows = list(response.data or [])
            self.stats.rows += len(rows)
            yield rows
            if str(response.result_truncated).lower() == "true" and not response.skip_token:
                raise AzureError(f"{what}: Resource Graph truncated the result (the query must project `id`)")
            skip_token = response.skip_token
            if not skip_token:
                return

    def _paced_graph_call(self, request: Any, what: str, subscriptions: Sequence[str] | None = None) -> Any:
        from azure.core.exceptions import AzureError as SdkError
        from azure.core.exceptions import (
            ClientAuthenticationError,
            DecodeError,
            HttpResponseError,
            IncompleteReadError,
            ServiceRequestError,
            ServiceResponseError,
        )

        graph = self._resource_graph()
        throttled = 0
        headers: dict[str, str] = {}

        def keep_headers(pipeline_response: Any) -> None:
            # Runs for every attempt, inside the SDK's retry loop: a 429 with `Retry-After` is retried by the
            # SDK itself, so this is where every 429 is seen (counted, and every caller of the principal paused).
            response = pipeline_response.http_response
            headers.clear()
            headers.update({k.lower(): v for k, v in response.headers.items()})
            if response.status_code == 429:
                self.stats.throttled += 1
                self.pacer.throttled(headers)

        sent: dict[str, float] = {}

        def stamp(pipeline_request: Any) -> None:
            # Per attempt: when the SDK retries a 429 itself, the window starts at the retry, not the first try.
            sent["at"] = self.pacer.now()

        failures = (
            0  # connection errors and 5xx the SDK did not retry (it does not retry most of them on a POST)
        )
        while True:
            self.stats.waited_s += self.pacer.acquire()
            self.stats.requests += 1
            try:
                response = graph.resources(request, raw_request_hook=stamp, raw_response_hook=keep_headers)
            except ClientAuthenticationError as error:
                raise AzureAuthenticationError(
                    _auth_message(error, self.config.credential.service_principal)
                ) from None
            except (ServiceRequestError, ServiceResponseError, IncompleteReadError, DecodeError) as error:
                # The same `$skipToken` is sent again: a blip does not restart a 100-page read from page 1.
                if failures < self.config.max_retries:
                    failures += 1
                    self._back_off(failures, what, type(error).__name__)
                    continue
                raise self._unreachable(error, what) from None
            except HttpResponseError as error:
                if error.status_code == 429:
                    # Not retried by the SDK (no `Retry-After` on a POST): the hook paused the pacer.
                    throttled += 1
                    if throttled > self.config.max_throttled_retries:
                        raise AzureQuotaError(
                            f"{what}: Resource Graph answered 429 RateLimiting {throttled} times in a row; "
                            "another client of the same principal may be spending the quota. Re-run later."
                        ) from None
                    log.info("%s: Resource Graph quota spent (429), waiting for the window to reset", what)
                    continue
                if error.status_code in RETRIED_STATUSES and failures < self.config.max_retries:
                    failures += 1
                    self._back_off(failures, what, f"HTTP {error.status_code}")
                    continue
                if (
                    NO_VALID_SUBSCRIPTIONS in _error_codes(error)
                    and subscriptions
                    and len(subscriptions) == 1
                ):
                    raise AzureAccessDeniedError(
                        subscriptions[0], f"Resource Graph: {NO_VALID_SUBSCRIPTIONS}"
                    ) from None
                raise _http_error(error, what) from None
            except SdkError as error:
                raise self._unreachable(error, what) from None
            self.pacer.observe(headers, sent.get("at"))
            return response

    def _back_off(self, failures: int, what: str, reason: str) -> None:
        delay = min(BACKOFF_MAX_S, BACKOFF_INITIAL_S * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)
        log.info("%s: %s, retry %d in %.1f s", what, reason, failures, delay)
        time.sleep(delay)

    def subscriptions(self) -> list[Subscription]:
        """Every subscription the principal can see, from Resource Graph's `ResourceContainers`."""
        found: list[Subscription] = []
        for page in self.query_pages(SUBSCRIPTIONS_QUERY, what="subscription discovery"):
            for row in page:
                properties = row.get("properties") or {}
                found.append(
                    Subscription(
                        subscription_id=str(row["subscriptionId"]).lower(),
                        name=str(row.get("name") or ""),
                        state=properties.get("state") if isinstance(properties, dict) else None,
                    )
                )
        return found

    def containers(self, subscription_id: str) -> list[dict[str, Any]]:
        """The subscription's own row and its resource groups; `AzureAccessDeniedError` if it is not visible."""
        rows = [
            row
            for page in self.query_pages(
                CONTAINERS_QUERY, [subscription_id], what=f"subscription {subscription_id}: resource groups"
            )
            for row in page
        ]
        if not any(str(row.get("type", "")).lower() == SUBSCRIPTION_TYPE for row in rows):
            raise AzureAccessDeniedError(
                subscription_id, "Resource Graph does not list it: no read access, or it does not exist"
            )
        return rows

    def resource_pages(self, subscription_id: str) -> Iterator[list[dict[str, Any]]]:
        """The subscription's resources, a page (<= 1,000 rows) at a time."""
        return self.query_pages(RESOURCES_QUERY, [subscription_id], what=f"subscription {subscription_id}")

    # --------------------------------------------------------------------------------------------- Advisor
    def recommendation_pages(self, subscription_id: str) -> Iterator[list[dict[str, Any]]]:
        """The subscription's Advisor recommendations as Azure sent them (raw JSON), a page at a time."""
        from azure.core.exceptions import AzureError as SdkError
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        advisor = self._advisor(subscription_id)
        latest: dict[str, Any] = {}

        def keep_page(pipeline_response: Any) -> None:
            # Called for every attempt (the hook runs inside the SDK's retry loop): keep the successful one.
            response = pipeline_response.http_response
            if 200 <= response.status_code < 300:
                try:
                    latest["page"] = json.loads(response.text())
                except ValueError:
                    latest["page"] = None  # reported below, naming the subscription

        what = f"subscription {subscription_id}: Advisor recommendations"
        try:
            pages = advisor.recommendations.list(raw_response_hook=keep_page).by_page()
            for _ in _each_page(pages, self.stats):
                page = latest.pop("page", None)
                if not isinstance(page, dict):
                    # Never an empty page in its place: an empty snapshot would wipe the subscription from silver.
                    raise AzureError(
                        f"{what}: a page of the answer was not readable JSON; nothing was written"
                    )
                rows = list(page.get("value") or [])
                self.stats.rows += len(rows)
                yield rows
        except ClientAuthenticationError as error:
            raise AzureAuthenticationError(
                _auth_message(error, self.config.credential.service_principal)
            ) from None
        except HttpResponseError as error:
            if error.status_code == 403:
                code = error.error.code if error.error else "Forbidden"
                raise AzureAccessDeniedError(
                    subscription_id, f"{code} on Microsoft.Advisor/recommendations/read"
                ) from None
            raise _http_error(error, what) from None
        except SdkError as error:
            raise self._unreachable(error, what) from None
        finally:
            advisor.close()

    def _unreachable(self, error: Exception, what: str) -> AzureError:
        """Connection refused, TLS or timeout after the SDK's own retries."""
        first_line = scrub(str(error)).splitlines()[0] if str(error) else type(error).__name__
        return AzureError(
            f"{what}: cannot reach {self.config.arm_url} ({type(error).__name__}: {first_line}). Check "
            "AZURE_ARM_URL, the network and, for a private certificate authority, AZURE_CA_BUNDLE."
        )


def _each_page(pages: Iterator[Any], stats: RequestStats) -> Iterator[None]:
    """Drain each SDK page (which runs the request and so the raw-response hook) before handing it out."""
    for page in pages:
        stats.requests += 1
        for _ in page:
            pass
        yield None


def _auth_message(error: Exception, service_principal: bool = True) -> str:
    text = scrub(str(error))
    first = text.splitlines()[0] if text else type(error).__name__
    if not service_principal:
        return (
            f"Azure sign-in failed: {first}. DefaultAzureCredential found no usable identity: set "
            "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run where a managed identity or an Azure "
            "CLI login is available."
        )
    return (
        f"Azure sign-in failed: {first}. Check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (an "
        "expired secret gives AADSTS7000222)."
    )


def _error_codes(error: Any) -> list[str]:
    """The ARM error's code and its details' codes (Resource Graph puts the reason in `details`)."""
    body = getattr(error, "error", None)
    if body is None:
        return []
    return [code for code in (body.code, *(d.code for d in (body.details or []))) if code]


def _http_error(error: Any, what: str) -> AzureError:
    body = getattr(error, "error", None)
    if body is None:
        return AzureError(scrub(f"{what}: HTTP {error.status_code}: {error}"))
    details = "; ".join(f"{d.code}: {d.message}" for d in (body.details or []) if d.code)
    text = f"{what}: HTTP {error.status_code} {body.code or ''}: {body.message}" + (
        f" ({details})" if details else ""
    )
    return AzureError(scrub(text))
