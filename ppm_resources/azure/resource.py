"""`AzureResource`: the Dagster face of the Azure client (configuration; one `AzureClient` per run).

For a real tenant the client secret is configured as `EnvVar("AZURE_CLIENT_SECRET")`, so the UI shows the
variable's name, never its value.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dagster as dg
from pydantic import Field, SecretStr

from ppm_resources.azure.client import MAX_PAGE_ROWS, AzureClient, AzureClientConfig
from ppm_resources.azure.credential import MANAGEMENT_URL, AzureCredentialConfig


class AzureResource(dg.ConfigurableResource):
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    authority_url: str | None = Field(
        default=None, description="Microsoft Entra ID authority (default: login.microsoftonline.com)."
    )
    arm_url: str = Field(default=MANAGEMENT_URL, description="Azure Resource Manager endpoint.")
    credential_scope: str | None = Field(
        default=None, description="Token audience (default: `<arm_url>/.default`)."
    )
    ca_bundle: str | None = Field(
        default=None, description="PEM file of a certificate authority to trust (the sandbox's)."
    )
    subscription_ids: list[str] = Field(
        default_factory=list,
        description="Subscriptions to ingest; empty: every subscription the principal can see.",
    )
    page_rows: int = Field(default=MAX_PAGE_ROWS, ge=1, le=MAX_PAGE_ROWS)
    quota_requests: int = Field(default=15, ge=1, description="Resource Graph requests per quota window.")
    quota_window_s: float = Field(default=5.0, gt=0, description="Resource Graph quota window, seconds.")

    def client_config(self) -> AzureClientConfig:
        return AzureClientConfig(
            credential=AzureCredentialConfig(
                tenant_id=self.tenant_id,
                client_id=self.client_id,
                # Stripped as settings strip it: the env var reference resolves to the raw value, and a trailing
                # newline from a secret file would be an invalid secret (AADSTS7000215).
                client_secret=SecretStr(self.client_secret.strip()) if self.client_secret else None,
                authority_url=self.authority_url,
                ca_bundle=self.ca_bundle,
            ),
            arm_url=self.arm_url,
            credential_scope=self.credential_scope,
            page_rows=self.page_rows,
            quota_requests=self.quota_requests,
            quota_window_s=self.quota_window_s,
        )

    def client(self, **overrides: Any) -> AzureClient:
        """A client for one run or sensor tick; `overrides` replace `AzureClientConfig` fields (a sensor's
        tighter retry budget)."""
        return AzureClient(replace(self.client_config(), **overrides))
