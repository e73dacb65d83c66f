"""Shared fixtures: a real sandbox server (uvicorn in a thread) on a free port.

sandbox          session-scoped running `SandboxServer` with the default demo workspace
                 (seed 42) and no rate limit; its `.notion`, `.faults`, `.stats`, `.clock`
                 are the live objects behind the HTTP API.
clean_sandbox    the same server, reset before and after the test: start-up faults, zeroed
                 stats, real clock, regenerated workspace. Use it in tests that change
                 anything (faults, clock, pages, schema).
notion_headers   headers for API version 2022-06-28 with a valid token (`notion_headers_2025`
                 for 2025-09-03).
notion_resource  a NotionResource on the sandbox with a fresh token (its own rate-limit bucket).
databricks_lakehouse  factory: a `DatabricksLakehouse` on the sandbox's Databricks emulator (which executes
                 on the local engine, in a session temporary directory).
local_defs       factory: local_defs(jobs=()) = the real assets, checks and `jobs` on the sandbox and
                 a temporary lakehouse (tmp_path / "lakehouse").
dagster_instance a persistent Dagster instance in a temporary DAGSTER_HOME.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import hypothesis  # noqa: F401  (see below)
import pytest

from ppm_sandbox import DEFAULT_TOKEN, DatabricksConfig, FaultSpec, SandboxConfig, SandboxServer

# hypothesis is imported (and assertion-rewritten, as a pytest plugin) here, at start-up, not by its plugin's
# terminal summary after the last test: by then CPython 3.11.7's `ast.parse` may fail with "AST constructor
# recursion depth mismatch" (python/cpython#106905, fixed in 3.11.8) once an earlier parse in the process failed.


def sandbox_variables(server: SandboxServer) -> dict[str, str]:
    """The variables that point a `ppm` process at `server`: Notion over HTTP, Azure over HTTPS with the
    certificate the server made."""
    return {
        "PPM_SANDBOX_URL": server.url,
        "PPM_SANDBOX_AZURE_URL": server.service_url("azure"),
        "PPM_SANDBOX_CA_CERT": str(server.ca_cert),
    }


def azure_sandbox_resource(server: SandboxServer):  # -> AzureResource
    """The Azure resource `build_resources` makes for a sandbox, pointed at `server`.

    Built anew rather than with `model_copy`: Dagster rebuilds a resource at run time from the arguments it was
    constructed with, so fields changed by `model_copy` would not reach the run."""
    from ppm_resources.resources import azure_resource
    from ppm_resources.settings import load_settings

    built = azure_resource(load_settings(env_file=None))
    fields = {name: getattr(built, name) for name in type(built).model_fields}
    url = server.service_url("azure")
    return type(built)(**{**fields, "authority_url": url, "arm_url": url, "ca_bundle": str(server.ca_cert)})


def reset_sandbox(server: SandboxServer) -> None:
    """Faults, stats, clock and workspace back to their start-up state."""
    server.reset()
    server.notion.reset()


@pytest.fixture(scope="session")
def sandbox_env() -> Callable[[SandboxServer], dict[str, str]]:
    """`sandbox_env(server)`: the variables pointing a `ppm` process at `server` (Notion, Azure + certificate)."""
    return sandbox_variables


def local_engine(root: str):  # -> LocalLakehouse: what the Databricks emulator executes statements on
    from ppm_resources.lakehouse.local import LocalLakehouse

    return LocalLakehouse(root=root)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    databricks = DatabricksConfig(engine=local_engine, storage_dir=str(tmp_path_factory.mktemp("databricks")))
    config = SandboxConfig(faults=FaultSpec.unlimited(), services={"databricks": databricks})
    with SandboxServer(config) as server:
        yield server


@pytest.fixture
def databricks_lakehouse(sandbox: SandboxServer, tmp_path: Path) -> Callable:
    """`databricks_lakehouse(**fields)`: the Databricks engine on the sandbox's emulator (fields override)."""
    from ppm_resources.lakehouse.databricks import DatabricksLakehouse
    from ppm_resources.settings import SANDBOX_DATABRICKS_TOKEN, SANDBOX_DATABRICKS_WAREHOUSE_ID

    def build(**fields: object) -> DatabricksLakehouse:
        settings = {
            "host": sandbox.service_url("databricks"),
            "token": SANDBOX_DATABRICKS_TOKEN,
            "warehouse_id": SANDBOX_DATABRICKS_WAREHOUSE_ID,
            "lock_dir": str(tmp_path / "locks"),
            **fields,
        }
        return DatabricksLakehouse(**settings)

    return build


@pytest.fixture
def clean_sandbox(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    reset_sandbox(sandbox)
    yield sandbox
    reset_sandbox(sandbox)


@pytest.fixture
def notion_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Notion-Version": "2022-06-28"}


@pytest.fixture
def notion_headers_2025() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Notion-Version": "2025-09-03"}


@pytest.fixture
def notion_resource(
    sandbox: SandboxServer,
):  # -> NotionResource (imported lazily: most tests need no Dagster)
    """The Notion resource on the sandbox, with a token of its own (its own rate-limit bucket), fast pacing."""
    import uuid

    from ppm_resources.notion.resource import NotionResource

    return NotionResource(
        base_url=sandbox.notion_url,
        token=f"secret_{uuid.uuid4().hex}",
        lookup_by_title=True,
        rate_limit_rps=500,
        rate_limit_burst=100,
    )


@pytest.fixture
def local_defs(notion_resource, sandbox: SandboxServer, tmp_path: Path) -> Callable:
    """`local_defs(jobs=())`: the real assets and checks (and `jobs`) on the sandbox and a temporary lakehouse
    (`tmp_path / "lakehouse"`)."""
    import dagster as dg

    from ppm_assets.definitions import defs
    from ppm_resources.lakehouse import LocalLakehouse

    def build(jobs: Sequence = ()) -> dg.Definitions:
        resources = {
            "lakehouse": LocalLakehouse(root=str(tmp_path / "lakehouse")),
            "notion": notion_resource,
            "azure": azure_sandbox_resource(sandbox),
        }
        return dg.Definitions(
            assets=defs.assets,
            asset_checks=defs.asset_checks,
            jobs=list(jobs),
            resources={**(defs.resources or {}), **resources},
        )

    return build


@pytest.fixture
def dagster_instance(tmp_path: Path) -> Iterator:
    """A persistent Dagster instance (run, event and schedule storage) in a temporary DAGSTER_HOME."""
    import dagster as dg

    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance
