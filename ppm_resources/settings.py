"""Settings from the environment and `.env` (pydantic-settings), validated once at load.

Every variable is listed in `.env.example`. With no credentials at all, every source points at the local
sandbox (`PPM_SANDBOX_URL`). A bad value fails at load with a message naming the variable, what is wrong
with the value and the expected form; secret values are never echoed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from dotenv import dotenv_values, load_dotenv
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ppm_resources.notion.client import NOTION_API_URL
from ppm_resources.notion.ids import InvalidNotionIdError, normalize_id
from ppm_resources.notion.mapping import MappingError, NotionMapping, load_notion_mapping
from ppm_resources.secrets import install_log_scrubbing, register

SANDBOX_URL_DEFAULT = "http://127.0.0.1:8765"
SANDBOX_NOTION_TOKEN = "ntn_sandbox_demo_token"
SANDBOX_AZURE_URL_DEFAULT = "https://127.0.0.1:8766"
SANDBOX_CA_CERT_DEFAULT = ".state/sandbox/ca.pem"
# The sandbox's demo service principal (not a secret: it opens nothing but the local emulator).
SANDBOX_AZURE_TENANT_ID = "72f988bf-0000-4000-8000-000000000001"
SANDBOX_AZURE_CLIENT_ID = "5a1f0c3e-7b2d-4e8f-9a6b-0c1d2e3f4a5b"
SANDBOX_AZURE_CLIENT_SECRET = "sandbox-azure-secret"
# The sandbox's Databricks emulator (not secrets either: they open nothing but the emulator).
SANDBOX_DATABRICKS_TOKEN = "dapi-sandbox-token"
SANDBOX_DATABRICKS_WAREHOUSE_ID = "5a4db0c5a4db0c01"

_HTTP_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


class SettingsError(ValueError):
    """Configuration that cannot be used; the message lists every offending variable."""


def _http_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not _HTTP_URL.match(value):
        raise ValueError("is not an http(s) URL: expected e.g. https://example.com")
    return value


def _comma_separated(value: object) -> object:
    if isinstance(value, str):
        return [part.strip().lower() for part in value.split(",") if part.strip()]
    return value


def _subscription_ids(ids: list[str]) -> list[str]:
    for item in ids:
        if not re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", item):
            raise ValueError(
                f"contains {item!r}, which is not a subscription id: expected comma-separated dashed UUIDs"
            )
    return ids


HttpUrl = Annotated[str, AfterValidator(_http_url)]
SubscriptionIds = Annotated[
    list[str], NoDecode, BeforeValidator(_comma_separated), AfterValidator(_subscription_ids)
]


class _Section(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    @field_validator("*", mode="after")
    @classmethod
    def _strip_secret(cls, value: object) -> object:
        """Every secret (any `SecretStr` field) without surrounding whitespace, and registered for scrubbing.

        Secret files and CRLF `.env` files leave a newline or carriage return at the end: sent as is, it makes
        an illegal HTTP header, which the HTTP library then quotes, secret and all, in its error.
        """
        if not isinstance(value, SecretStr):
            return value
        register(value)
        return SecretStr(value.get_secret_value().strip())


class NotionSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="NOTION_")

    token: SecretStr | None = None
    api_url: HttpUrl | None = Field(default=None, description="Override the API base URL (default: Notion).")
    api_version: Literal["2022-06-28", "2025-09-03"] = "2022-06-28"
    rate_limit_rps: float = Field(default=3.0, gt=0, le=1000)
    # Below the server's bucket (Notion's is undisclosed; the sandbox's is 10) so arrival jitter never becomes 429s.
    rate_limit_burst: int = Field(default=3, ge=1, le=1000)
    # The deletion sensor lists every live page id to see deletions; this share of rate_limit_rps is what the
    # listings may spend on average (the rest is for syncs, probes and writes).
    listing_share: float = Field(default=0.25, gt=0, le=1)
    # Bounded waits: retries per request, the longest Retry-After honoured (longer fails at once, naming this
    # setting), and the latest a retry wait may end after a run's client opened (a full sync of 1M pages at
    # 3 requests/s takes about an hour; the default leaves room for several).
    # A sync refuses to tombstone more than this share of a database's live pages at once (20 pages or more):
    # `--allow-mass-delete` confirms a real clean-up.
    mass_delete_share: float = Field(default=0.5, gt=0, le=1)
    max_retries: int = Field(default=5, ge=0, le=100)
    max_rate_limited_retries: int = Field(default=30, ge=0, le=1000)
    max_retry_after_s: float = Field(default=120.0, gt=0, le=86_400)
    run_deadline_s: float = Field(default=21_600.0, gt=0, le=604_800)
    # Optional webhooks (`ppm serve-webhooks`): the event store the receiver writes and the webhook sensor reads
    # (relative to the working directory), and the subscription's verification token when it is not the one the
    # receiver stored from Notion's handshake (next to the store).
    webhook_store: str = Field(default=".state/notion_webhooks.sqlite", min_length=1)
    webhook_verification_token: SecretStr | None = None
    # The write-back's lock files, one per Source ID (relative to the working directory): two writers of the
    # same Action on this machine take turns (DESIGN §8).
    writeback_lock_dir: str = Field(default=".state/locks", min_length=1)
    # Database ids are read per database of config/notion_mapping.yaml from its `id_env` variable
    # (NOTION_PROGRAMS_DB_ID, ...): see `resolve_notion_database_ids`.


class DatabricksSettings(_Section):
    # Empty means unset: importing dagster-databricks sets DATABRICKS_TOKEN="" in the process environment when
    # it is absent, which would otherwise read as "a token was given".
    model_config = SettingsConfigDict(env_prefix="DATABRICKS_", env_ignore_empty=True)

    host: HttpUrl | None = None
    token: SecretStr | None = None
    warehouse_id: str | None = Field(default=None, pattern=r"^[0-9a-zA-Z]+$")
    catalog: str = Field(default="main", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    volume: str = Field(default="main.bronze.landing", pattern=r"^\w+\.\w+\.\w+$")


class AzureSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="AZURE_")

    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    subscription_ids: SubscriptionIds = Field(default_factory=list)
    key_vault_url: HttpUrl | None = None
    arm_url: HttpUrl | None = Field(default=None, description="Override the ARM endpoint (default: Azure).")
    authority_url: HttpUrl | None = Field(
        default=None,
        description="Override the Microsoft Entra ID authority (default: login.microsoftonline.com).",
    )
    # A PEM file of a certificate authority to trust besides the system's (a TLS-inspecting proxy, the sandbox).
    ca_bundle: str | None = Field(default=None, min_length=1)
    # Resource Graph's per-principal quota (Azure's documented default: 15 requests per 5 seconds).
    graph_quota_requests: int = Field(default=15, ge=1, le=1000)
    graph_quota_window_s: float = Field(default=5.0, gt=0, le=3600)


class UnifiSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="UNIFI_")

    api_key: SecretStr | None = None
    api_url: HttpUrl | None = None


class NinjaOneSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="NINJAONE_")

    client_id: str | None = None
    client_secret: SecretStr | None = None
    api_url: HttpUrl | None = None


class AlertSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="PPM_ALERT_")

    slack_webhook_url: SecretStr | None = None
    teams_webhook_url: SecretStr | None = None


class PpmSettings(_Section):
    """The product's own settings (prefix `PPM_`)."""

    model_config = SettingsConfigDict(env_prefix="PPM_")

    env: Literal["local", "databricks"] = "local"
    sandbox_url: HttpUrl = SANDBOX_URL_DEFAULT
    # The sandbox serves Azure over HTTPS on its own port, with a certificate it makes at start and writes here.
    sandbox_azure_url: HttpUrl = SANDBOX_AZURE_URL_DEFAULT
    sandbox_ca_cert: str = SANDBOX_CA_CERT_DEFAULT
    lakehouse_dir: str = ".lakehouse"
    reporting_currency: Literal["USD", "EUR", "PHP"] = "USD"
    duckdb_threads: int | None = Field(default=None, ge=1, le=256)
    duckdb_memory_limit: str | None = Field(
        default=None, pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$"
    )


class Settings(BaseModel):
    """All settings, grouped by source. Build with `load_settings()`."""

    ppm: PpmSettings
    notion: NotionSettings
    databricks: DatabricksSettings
    azure: AzureSettings
    unifi: UnifiSettings
    ninjaone: NinjaOneSettings
    alerts: AlertSettings
    notion_database_ids: dict[str, str] = Field(
        default_factory=dict, description="Mapping name -> Notion database id (dashed UUID), where set."
    )

    model_config = {"frozen": True}

    @cached_property
    def notion_uses_sandbox(self) -> bool:
        return self.notion.token is None

    @property
    def notion_base_url(self) -> str:
        if self.notion.api_url:
            return self.notion.api_url
        return f"{self.ppm.sandbox_url}/notion" if self.notion_uses_sandbox else NOTION_API_URL

    @cached_property
    def azure_uses_sandbox(self) -> bool:
        """No Azure principal and no endpoint configured: Azure is the sandbox's emulator."""
        azure = self.azure
        return not (azure.tenant_id or azure.client_id or azure.client_secret or azure.arm_url)

    @cached_property
    def databricks_uses_sandbox(self) -> bool:
        """No DATABRICKS_HOST: `PPM_ENV=databricks` runs on the sandbox's Databricks emulator."""
        return self.databricks.host is None

    @property
    def databricks_url(self) -> str:
        return (
            f"{self.ppm.sandbox_url}/databricks"
            if self.databricks_uses_sandbox
            else str(self.databricks.host)
        )

    @property
    def notion_token(self) -> SecretStr:
        return self.notion.token or SecretStr(SANDBOX_NOTION_TOKEN)

    def check_consistency(self) -> None:
        """Cross-field rules that single fields cannot express."""
        problems = []
        if self.ppm.env == "databricks":
            missing = [
                name
                for name, value in (
                    ("DATABRICKS_HOST", self.databricks.host),
                    ("DATABRICKS_TOKEN", self.databricks.token),
                    ("DATABRICKS_WAREHOUSE_ID", self.databricks.warehouse_id),
                )
                if value is None
            ]
            if missing and len(missing) < 3:
                problems.append(
                    f"PPM_ENV=databricks with only part of the Databricks credentials: set {', '.join(missing)} "
                    "(or none of them to use the local Databricks emulator)"
                )
        principal = [
            ("AZURE_TENANT_ID", self.azure.tenant_id),
            ("AZURE_CLIENT_ID", self.azure.client_id),
            ("AZURE_CLIENT_SECRET", self.azure.client_secret),
        ]
        unset = [name for name, value in principal if not value]
        if 0 < len(unset) < 3:
            problems.append(
                f"Azure service principal incomplete: set {', '.join(unset)} too (or none of the three to use "
                "DefaultAzureCredential with AZURE_ARM_URL, or the sandbox)"
            )
        if self.azure_uses_sandbox and (self.azure.subscription_ids or self.azure.authority_url):
            given = "AZURE_SUBSCRIPTION_IDS" if self.azure.subscription_ids else "AZURE_AUTHORITY_URL"
            problems.append(
                f"{given} is set but no Azure principal nor AZURE_ARM_URL: Azure would be the sandbox. Set "
                "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or AZURE_ARM_URL=https://management.azure.com "
                "to use DefaultAzureCredential"
            )
        if self.azure.ca_bundle and not Path(self.azure.ca_bundle).is_file():
            problems.append(
                f"AZURE_CA_BUNDLE={self.azure.ca_bundle!r}: no such file (a PEM certificate file)"
            )
        if problems:
            raise SettingsError("invalid configuration:\n  - " + "\n  - ".join(problems))


_SECTIONS: dict[str, type[_Section]] = {
    "ppm": PpmSettings,
    "notion": NotionSettings,
    "databricks": DatabricksSettings,
    "azure": AzureSettings,
    "unifi": UnifiSettings,
    "ninjaone": NinjaOneSettings,
    "alerts": AlertSettings,
}


def _describe(section: type[_Section], error: dict) -> str:
    prefix = section.model_config.get("env_prefix", "")
    field = str(error["loc"][0]) if error["loc"] else "?"
    variable = f"{prefix}{field}".upper()
    message = str(error["msg"]).removeprefix("Value error, ")
    annotation = section.model_fields[field].annotation if field in section.model_fields else None
    secret = "SecretStr" in repr(annotation)
    shown = "" if secret or "input" not in error else f"={error['input']!r}"
    return f"{variable}{shown}: {message}"


def resolve_notion_database_ids(
    mapping: NotionMapping, variables: Mapping[str, str | None], *, token_set: bool
) -> tuple[dict[str, str], list[str]]:
    """Each mapped database's id from its `id_env` variable; problems name the variable.

    With a real token every database needs an id; against the sandbox, ids are looked up by title.
    """
    ids: dict[str, str] = {}
    problems: list[str] = []
    missing: list[str] = []
    for name, database in mapping.databases.items():
        raw = (variables.get(database.id_env) or "").strip()
        if not raw:
            missing.append(database.id_env)
            continue
        try:
            ids[name] = normalize_id(raw)
        except InvalidNotionIdError as error:
            problems.append(f"{database.id_env}={raw!r}: {error.reason}")
    if token_set and missing:
        problems.append(
            f"NOTION_TOKEN is set (real Notion) but {', '.join(missing)} is not: set the id of each database "
            f"of {mapping.source} shared with the integration"
        )
    return ids, problems


def _environment(env_file: str | None) -> dict[str, str | None]:
    """Process environment over `.env` values (the precedence pydantic-settings uses)."""
    file_values = dotenv_values(env_file) if env_file and Path(env_file).is_file() else {}
    return {**file_values, **os.environ}


def prepare_process(env_file: str | None = ".env") -> None:
    """Start-up of every process of the product (the `ppm` command, the code location); idempotent.

    `.env` joins the process environment (variables already set win, as they do for settings), so what reads
    the environment directly sees what settings read: `dg.EnvVar("NOTION_TOKEN")` resolves a token kept only in
    `.env` and the UI still shows the variable's name. Log records are scrubbed of secrets from here on.
    """
    if env_file and Path(env_file).is_file():
        load_dotenv(env_file, override=False, encoding="utf-8")
    install_log_scrubbing()


def load_settings(env_file: str | None = ".env", mapping: NotionMapping | None = None) -> Settings:
    """Read every section; raise `SettingsError` listing each bad variable at once."""
    values: dict[str, _Section] = {}
    problems: list[str] = []
    for name, section in _SECTIONS.items():
        try:
            values[name] = section(_env_file=env_file)  # type: ignore[call-arg]
        except ValidationError as error:
            problems.extend(_describe(section, item) for item in error.errors())  # type: ignore[arg-type]
    token_set = "notion" in values and values["notion"].token is not None  # type: ignore[attr-defined]
    try:
        database_ids, id_problems = resolve_notion_database_ids(
            mapping or load_notion_mapping(), _environment(env_file), token_set=token_set
        )
    except MappingError as error:
        database_ids, id_problems = {}, [str(error)]
    problems.extend(id_problems)
    if problems:
        raise SettingsError("invalid configuration:\n  - " + "\n  - ".join(problems))
    settings = Settings(**values, notion_database_ids=database_ids)  # type: ignore[arg-type]
    settings.check_consistency()
    return settings
