"""The Azure credential from settings: a service principal when one is configured, else `DefaultAzureCredential`.

Against a non-default authority (the sandbox, a sovereign cloud) MSAL must not ask login.microsoftonline.com to
validate the authority (`disable_instance_discovery`), and a private certificate authority is trusted through
`connection_verify` (a PEM file), for the token requests and the management clients alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from ppm_resources.secrets import register

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

MANAGEMENT_URL = "https://management.azure.com"
LOGIN_URL = "https://login.microsoftonline.com"


@dataclass(frozen=True)
class AzureCredentialConfig:
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    authority_url: str | None = None  # None: Microsoft Entra ID's public cloud
    ca_bundle: str | None = None  # PEM of a certificate authority to trust besides the system's

    @property
    def service_principal(self) -> bool:
        return bool(self.tenant_id and self.client_id and self.client_secret)

    @property
    def principal(self) -> str:
        """Who the quota is counted for: `tenant/client` of the service principal, else `default`."""
        return f"{self.tenant_id}/{self.client_id}" if self.service_principal else "default"


def build_credential(config: AzureCredentialConfig) -> TokenCredential:
    """A token credential for the management plane (see the module docstring)."""
    from azure.identity import ClientSecretCredential, DefaultAzureCredential

    options: dict[str, object] = {}
    if config.authority_url:
        options["authority"] = config.authority_url
        options["disable_instance_discovery"] = config.authority_url.rstrip("/") != LOGIN_URL
    if config.ca_bundle:
        options["connection_verify"] = config.ca_bundle
    if config.service_principal:
        assert config.client_secret is not None
        secret = config.client_secret.get_secret_value()
        register(secret)
        return ClientSecretCredential(
            str(config.tenant_id),
            str(config.client_id),
            secret,
            **options,  # type: ignore[arg-type]
        )
    return DefaultAzureCredential(**options)  # type: ignore[arg-type]
