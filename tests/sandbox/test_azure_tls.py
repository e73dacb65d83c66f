"""Azure's own HTTPS listener: certificate handling, ports, and `ppm-sandbox serve` / `SandboxProcess`."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from azure.identity import ClientSecretCredential
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from ppm_sandbox import FaultSpec, SandboxConfig, SandboxProcess, SandboxServer
from ppm_sandbox.azure import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID, AzureConfig

SMALL = SandboxConfig(
    faults=FaultSpec.unlimited(), services={"azure": AzureConfig(resources=40, recommendations=5)}
)


def test_azure_is_served_over_https_at_the_root_of_its_own_port(tmp_path: Path) -> None:
    with SandboxServer(SMALL, tls_dir=tmp_path) as server:
        base = server.service_url("azure")
        assert base == f"https://127.0.0.1:{server.tls_port}" and server.tls_ports == {
            "azure": server.tls_port
        }
        assert server.ca_cert == tmp_path / "ca.pem"
        trust = ssl.create_default_context(cafile=str(server.ca_cert))
        discovery = f"{base}/{DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration"
        assert httpx.get(discovery, verify=trust).status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(discovery)  # an untrusted self-signed certificate
        # Nothing of Azure on the HTTP port but its control routes.
        assert (
            httpx.get(
                f"{server.url}/azure/{DEFAULT_TENANT_ID}/v2.0/.well-known/openid-configuration"
            ).status_code
            == 404
        )
        assert httpx.get(f"{server.url}/_sandbox/azure/truth").json()["resources"] == 40
        assert "azure" in httpx.get(f"{server.url}/healthz").json()["services"]
        pem, port = server.ca_cert.read_bytes(), server.tls_port
    with SandboxServer(SMALL, tls_dir=tmp_path, tls_port=port) as again:
        assert again.ca_cert.read_bytes() == pem  # reused: clients can keep trusting it
        assert again.tls_port == port


def test_temporary_certificate_goes_away_on_stop() -> None:
    server = SandboxServer(SMALL).start()
    cert = server.ca_cert
    assert cert.exists()
    server.stop()
    assert not cert.exists()
    with pytest.raises(RuntimeError):
        _ = server.ca_cert


def test_serve_ready_line_names_the_https_url_and_certificate() -> None:
    args = ["--azure-resources", "120", "--azure-recommendations", "10", "--azure-quota-window", "1"]
    with SandboxProcess(rate=None, counts={"budget_lines": 50}, extra_args=args) as proc:
        base = proc.service_url("azure")
        assert base == f"https://127.0.0.1:{proc.tls_port}"
        assert proc.ca_cert.exists()
        assert proc.info["azure"]["tenant_id"] == DEFAULT_TENANT_ID
        assert proc.info["azure"]["client_id"] == DEFAULT_CLIENT_ID
        assert list(proc.info["azure"]["subscriptions"].values()) == ["ppm-prod", "ppm-nonprod", "ppm-shared"]
        credential = ClientSecretCredential(
            DEFAULT_TENANT_ID,
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            authority=base,
            disable_instance_discovery=True,
            connection_verify=str(proc.ca_cert),
        )
        with ResourceGraphClient(
            credential, base_url=base, api_version="2024-04-01", connection_verify=str(proc.ca_cert)
        ) as client:
            page = client.resources(
                QueryRequest(query="Resources | project id", options=QueryRequestOptions(top=100))
            )
        credential.close()
        assert (page.total_records, page.count) == (120, 100) and page.skip_token
        assert httpx.get(f"{proc.url}/_sandbox/azure/quota").json()["window_s"] == 1
        ca_cert = proc.ca_cert
    assert not ca_cert.exists()  # the child removed its temporary certificate
